// Test helper: drives the real pure core with generated command sequences. Not a mock.
import fc from 'fast-check';
import { parseConfig } from '../../src/quarantine/index.js';
import { step } from '../../src/quarantine/machine.js';
import type { AuditDraft, QuarantineConfig, QuarantineConfigInput, QuarantineEvent, RepositoryState, ScannerResult } from '../../src/quarantine/index.js';
import type { StepResult } from '../../src/quarantine/machine.js';
import { emptyRepository } from '../../src/quarantine/machine.js';

export const REPO = 'team/app';
export const D = ['1', '2', '3', '4'].map((c) => `sha256:${c.repeat(64)}`) as [string, string, string, string];
/** D[3] is an index over D[0] and D[1]. */
export const INDEX = D[3];
export const TAGS = ['v1', 'latest'] as const;
export const ci = { id: 'ci', roles: ['push'] } as const;
export const writer = { id: 'scanner-bot', roles: ['quarantine-writer'] } as const;
export const reader = { id: 'auditor', roles: ['quarantine-reader'] } as const;
export const ops = { id: 'ops', roles: ['overrider'] } as const;
export const dev = { id: 'dev', roles: [] } as const;
export const T0 = 1_700_000_000_000;
export const DEADLINE = 60_000;

export function config(extra: Partial<QuarantineConfigInput> = {}): QuarantineConfig {
  return parseConfig({ scanners: ['s1', 's2'], scanDeadlineMs: DEADLINE, maxRetries: 1, maxReleaseTtlMs: 600_000, ...extra });
}

export type Op =
  | { readonly k: 'push'; readonly d: number; readonly tag: number | null }
  | {
      readonly k: 'verdict';
      readonly d: number;
      readonly scanner: number;
      readonly result: ScannerResult;
      readonly genDelta: number;
      readonly key: number;
    }
  | { readonly k: 'replay'; readonly i: number }
  | { readonly k: 'tick'; readonly ms: number }
  | { readonly k: 'rescan'; readonly d: number }
  | { readonly k: 'release'; readonly d: number; readonly ttl: number }
  | { readonly k: 'revoke'; readonly d: number }
  | { readonly k: 'deleteManifest'; readonly d: number }
  | { readonly k: 'deleteTag'; readonly tag: number };

const d4 = fc.integer({ min: 0, max: 3 });
export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('push' as const), d: d4, tag: fc.option(fc.integer({ min: 0, max: 1 })) }) },
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant('verdict' as const),
      d: d4,
      scanner: fc.integer({ min: 0, max: 1 }),
      result: fc.constantFrom<ScannerResult>('pass', 'pass', 'pass', 'pass', 'fail', 'unsupported', 'error'),
      genDelta: fc.constantFrom(0, 0, 0, 0, 0, -1, 1),
      key: fc.integer({ min: 0, max: 5 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('replay' as const), i: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 90_000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('rescan' as const), d: d4 }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('release' as const), d: d4, ttl: fc.integer({ min: 1, max: 120_000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('revoke' as const), d: d4 }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('deleteManifest' as const), d: d4 }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('deleteTag' as const), tag: fc.integer({ min: 0, max: 1 }) }) },
);
export const opsArb = fc.array(opArb, { minLength: 1, maxLength: 40, size: 'max' });

export interface World {
  state: RepositoryState;
  now: number;
  events: QuarantineEvent[];
  audit: AuditDraft[];
  sent: Record<string, unknown>[];
}

export interface TraceStep {
  readonly op: Op;
  readonly command: Record<string, unknown>;
  readonly before: RepositoryState;
  readonly beforeNow: number;
  readonly now: number;
  readonly result: StepResult;
}

export function newWorld(): World {
  return { state: emptyRepository(REPO), now: T0, events: [], audit: [], sent: [] };
}

/** Commands about a digest mostly target one that exists, so that traces reach every state. */
function target(w: World, i: number): string {
  const d = D[i] as string;
  if (w.state.records.has(d) || i === 3) return d;
  const known = [...w.state.records.keys()].sort();
  return known.length === 0 ? d : (known[i % known.length] as string);
}

export function commandFor(w: World, op: Op): Record<string, unknown> {
  const base = { repository: REPO };
  switch (op.k) {
    case 'push': {
      const d = D[op.d] as string;
      const tag = op.tag === null ? {} : { tag: TAGS[op.tag] };
      const idx = d === INDEX ? { kind: 'index', children: [D[0], D[1]] } : {};
      return { type: 'push', ...base, digest: d, principal: ci, ...tag, ...idx };
    }
    case 'verdict': {
      const d = target(w, op.d);
      const gen = Math.max(1, (w.state.records.get(d)?.generation ?? 1) + op.genDelta);
      const c = {
        type: 'verdict',
        ...base,
        digest: d,
        generation: gen,
        scannerId: `s${op.scanner + 1}`,
        idempotencyKey: `k${op.key}-g${gen}-${op.result}`,
        result: op.result,
        principal: writer,
      };
      w.sent.push(c);
      return c;
    }
    case 'replay':
      return w.sent.length === 0 ? { type: 'tick', ...base } : (w.sent[op.i % w.sent.length] as Record<string, unknown>);
    case 'tick':
      return { type: 'tick', ...base };
    case 'rescan':
      return { type: 'rescan', ...base, digest: target(w, op.d), principal: writer };
    case 'release':
      return { type: 'release', ...base, digest: target(w, op.d), principal: ops, reason: 'INC-1', expiresAt: w.now + op.ttl };
    case 'revoke':
      return { type: 'revoke', ...base, digest: target(w, op.d), principal: ops, reason: 'bad' };
    case 'deleteManifest':
      return { type: 'deleteManifest', ...base, digest: D[op.d], principal: ci };
    case 'deleteTag':
      return { type: 'deleteTag', ...base, tag: TAGS[op.tag], principal: ci };
  }
}

export function apply(w: World, command: unknown, cfg: QuarantineConfig): StepResult {
  const r = step(w.state, command, w.now, cfg);
  w.state = r.state;
  w.events.push(...r.events);
  w.audit.push(...r.audit);
  return r;
}

export function run(cfg: QuarantineConfig, list: readonly Op[], w: World = newWorld()): { world: World; trace: TraceStep[] } {
  const trace: TraceStep[] = [];
  for (const op of list) {
    const before = w.state;
    const beforeNow = w.now;
    if (op.k === 'tick') w.now += op.ms;
    const command = commandFor(w, op);
    const result = apply(w, command, cfg);
    trace.push({ op, command, before, beforeNow, now: w.now, result });
  }
  return { world: w, trace };
}

/** Independent oracle for quarantine.md §5 `visible(d)` (plus index closure), written from the spec text. */
export function oracleVisible(s: RepositoryState, digest: string, now: number): boolean {
  const r = s.records.get(digest);
  if (r === undefined || r.deleted) return false;
  // quarantine.md §4: a referrer inherits its subject's visibility unless it failed itself.
  const own =
    r.subject !== undefined
      ? r.state !== 'Failed'
      : (r.state === 'Passed' && (r.validUntil === undefined || now < r.validUntil)) ||
        (r.state === 'Released' && r.release !== undefined && now < r.release.expiresAt);
  if (!own) return false;
  return r.children.every((c) => oracleVisible(s, c, now)) && (r.subject === undefined || oracleVisible(s, r.subject, now));
}

export function visibleSet(s: RepositoryState, now: number): Set<string> {
  return new Set(D.filter((d) => oracleVisible(s, d, now)));
}
