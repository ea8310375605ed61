// Issue #7: the optimised core (persistent maps, incremental visibility, indexed tags, a due-time
// bound instead of a full sort) must be observably identical to the straightforward core it
// replaced. `reference/machine.ts` is that core, kept verbatim as a test-only oracle.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMemoryStore } from '../../src/quarantine/index.js';
import { deterministicUuid } from '../../src/quarantine/ids.js';
import { step } from '../../src/quarantine/machine.js';
import { unitOfWork } from '../../src/quarantine/store.js';
import { visibleDigests } from '../../src/quarantine/visibility-rule.js';
import type { QuarantineConfig, RepositoryState, ScannerResult } from '../../src/quarantine/index.js';
import type { StepResult } from '../../src/quarantine/machine.js';
import { PersistentMap } from '../../src/quarantine/pmap.js';
import { createHash } from 'node:crypto';
import { emptyRepository as referenceEmpty, step as referenceStep, visibleDigests as referenceVisibleDigests } from './reference/machine.js';
import { DEADLINE, REPO, T0, ci, config, ops, writer } from './harness.js';

/** 20 digests: a few indexes (nested, cyclic, with a missing child) and referrers; the rest images. */
const P = Array.from({ length: 20 }, (_, i) => `sha256:${i.toString(16).padStart(2, '0').repeat(32)}`);
const SHAPE: Record<number, { children?: number[]; subject?: number }> = {
  3: { children: [0, 1] },
  5: { children: [3, 4] },
  6: { subject: 2 },
  7: { subject: 6 },
  8: { children: [9] },
  9: { children: [8] },
  10: { children: [10] },
  11: { children: [19] },
  12: { children: [0], subject: 5 },
};
const TAG_NAMES = ['v1', 'latest', 'stable', 'a', 'b'] as const;
const WAIVED = 'CVE-W';

type Op =
  | { readonly k: 'push'; readonly d: number; readonly tag: number | null }
  | { readonly k: 'verdict'; readonly d: number; readonly scanner: number; readonly result: ScannerResult; readonly genDelta: number; readonly key: number; readonly findings: boolean }
  | { readonly k: 'replay'; readonly i: number }
  | { readonly k: 'tick'; readonly ms: number }
  | { readonly k: 'rescan'; readonly d: number }
  | { readonly k: 'release'; readonly d: number; readonly ttl: number }
  | { readonly k: 'revoke'; readonly d: number }
  | { readonly k: 'deleteManifest'; readonly d: number }
  | { readonly k: 'deleteTag'; readonly tag: number }
  | { readonly k: 'garbage'; readonly n: number }
  /** Hands both cores a plain-`Map` copy of their state (the shape a foreign store returns). */
  | { readonly k: 'reload' }
  /** Push then pass with every scanner: reaches visible indexes and referrers quickly. */
  | { readonly k: 'land'; readonly d: number; readonly tag: number | null };

// Most commands hit a few digests so that traces reach deep states; the rest spread over all 20 so
// that the persistent maps fold their overlays.
const dArb = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 7 }) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 19 }) });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('push' as const), d: dArb, tag: fc.option(fc.integer({ min: 0, max: TAG_NAMES.length - 1 })) }) },
  {
    weight: 9,
    arbitrary: fc.record({
      k: fc.constant('verdict' as const),
      d: dArb,
      scanner: fc.integer({ min: 0, max: 1 }),
      result: fc.constantFrom<ScannerResult>('pass', 'pass', 'pass', 'pass', 'fail', 'unsupported', 'error'),
      genDelta: fc.constantFrom(0, 0, 0, 0, 0, -1, 1),
      key: fc.integer({ min: 0, max: 5 }),
      findings: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('replay' as const), i: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('tick' as const),
      // Exact multiples land on deadlines, release expiries and waiver expiries (t, not t ± 1).
      ms: fc.oneof(fc.integer({ min: 1, max: 90_000 }), fc.constantFrom(1, 10_000, 30_000, DEADLINE, 150_000)),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('rescan' as const), d: dArb }) },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('release' as const), d: dArb, ttl: fc.oneof(fc.integer({ min: 1, max: 120_000 }), fc.constantFrom(10_000, 30_000)) }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('revoke' as const), d: dArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('deleteManifest' as const), d: dArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('deleteTag' as const), tag: fc.integer({ min: 0, max: TAG_NAMES.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('garbage' as const), n: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('reload' as const) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('land' as const), d: dArb, tag: fc.option(fc.integer({ min: 0, max: TAG_NAMES.length - 1 })) }) },
);

/** Time also passes before other commands, so that the clock and a command act in one step. */
const dtArb = fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 90_000 }) }, { weight: 1, arbitrary: fc.constantFrom(DEADLINE, 150_000) });

const waiverCfg = (): QuarantineConfig =>
  config({
    evaluation: { mode: 'findings', threshold: 'High' },
    waivers: [
      { id: 'w1', findingId: WAIVED, scope: { kind: 'repository', repository: REPO }, reason: 'unreachable', author: 'sec', createdAt: T0, expiresAt: T0 + 150_000 },
      // Takes over when w1 lapses: a Passed resting on w1 is re-evaluated and stays visible.
      { id: 'w2', findingId: WAIVED, scope: { kind: 'registry' }, reason: 'vendor fix', author: 'sec', createdAt: T0 + 100_000, expiresAt: T0 + 400_000 },
    ],
  });
const cfgs = [
  config(),
  config({ onNewFindings: 'alert', quorum: { mode: 'k-of-n', k: 1 }, anyFailFails: false }),
  config({ onUnverifiedRetag: 'hideTag', maxRetries: 0 }),
  config({ legacyLastWriterWins: true, separationOfDuties: true }),
  waiverCfg(),
];

function commandFor(op: Exclude<Op, { k: 'land' }>, state: RepositoryState, now: number, sent: Record<string, unknown>[]): Record<string, unknown> {
  const base = { repository: REPO };
  switch (op.k) {
    case 'push': {
      const shape = SHAPE[op.d] ?? {};
      return {
        type: 'push',
        ...base,
        digest: P[op.d],
        principal: shape.subject !== undefined && op.d % 2 === 0 ? writer : ci,
        ...(op.tag === null ? {} : { tag: TAG_NAMES[op.tag] }),
        ...(shape.children === undefined ? {} : { kind: 'index', children: shape.children.map((i) => P[i]) }),
        ...(shape.subject === undefined ? {} : { subject: P[shape.subject] }),
      };
    }
    case 'verdict': {
      const d = P[op.d] as string;
      const gen = Math.max(1, (state.records.get(d)?.generation ?? 1) + op.genDelta);
      const c = {
        type: 'verdict',
        ...base,
        digest: d,
        ...(op.genDelta === 1 && op.key === 5 ? {} : { generation: gen }),
        scannerId: `s${op.scanner + 1}`,
        idempotencyKey: `k${op.key}-g${gen}-${op.result}`,
        result: op.result,
        ...(op.findings ? { findings: [{ id: WAIVED, severity: 'Critical' }] } : {}),
        principal: writer,
      };
      sent.push(c);
      return c;
    }
    case 'replay':
      return sent.length === 0 ? { type: 'tick', ...base } : (sent[op.i % sent.length] as Record<string, unknown>);
    case 'tick':
    case 'reload':
      return { type: 'tick', ...base };
    case 'rescan':
      return { type: 'rescan', ...base, digest: P[op.d], principal: writer };
    case 'release':
      return { type: 'release', ...base, digest: P[op.d], principal: op.d % 3 === 0 ? ci : ops, reason: 'INC-1', expiresAt: now + op.ttl };
    case 'revoke':
      return { type: 'revoke', ...base, digest: P[op.d], principal: ops, reason: 'bad' };
    case 'deleteManifest':
      return { type: 'deleteManifest', ...base, digest: P[op.d], principal: ci };
    case 'deleteTag':
      return { type: 'deleteTag', ...base, tag: TAG_NAMES[op.tag], principal: ci };
    case 'garbage':
      return [
        { type: 'verdict', ...base, digest: P[0], generation: 1, scannerId: 's1', idempotencyKey: 'x', result: 'maybe', principal: writer },
        { type: 'push', repository: 'other/app', digest: P[1], principal: ci },
        { type: 'push', ...base, digest: 'not a digest', principal: ci },
        { type: 'release', ...base, digest: P[1], principal: ops, reason: 'r', expiresAt: now + 10_000_000 },
      ][op.n] as Record<string, unknown>;
  }
}

const plain = (s: RepositoryState): RepositoryState => ({ repository: s.repository, records: new Map(s.records), tags: new Map(s.tags) });

type Visibility = (s: RepositoryState, now: number) => Set<string>;
const fastVisible: Visibility = visibleDigests;
/** The reference side recomputes visibility over the whole repository, with its own code. */
const slowVisible: Visibility = referenceVisibleDigests;

/** Everything a caller can observe of a step result; `visible` is the core's own visibility. */
function observable(before: RepositoryState, r: StepResult, now: number, visible: Visibility) {
  const unit = unitOfWork(before, r);
  return {
    ok: r.ok,
    records: [...r.state.records.entries()],
    tags: [...r.state.tags.entries()],
    size: [r.state.records.size, r.state.tags.size],
    events: r.events,
    audit: r.audit,
    outcome: r.ok ? r.response : { code: r.error.code, message: r.error.message },
    visible: [...visible(r.state, now)].sort(),
    writes: [unit.records.map((w) => [w.record.digest, w.expectedVersion]), unit.tags.map((w) => [w.binding.tag, w.expectedVersion])],
  };
}

/**
 * Runs the optimised step and the reference step side by side from empty states, checking after
 * every command that what they expose is identical; returns the optimised result.
 */
function lockstep(cfg: QuarantineConfig, clock: { now: number }): (command: Record<string, unknown>) => StepResult {
  let fast: RepositoryState = { repository: REPO, records: new Map(), tags: new Map() };
  let slow: RepositoryState = referenceEmpty(REPO);
  return (command) => {
    const a = step(fast, command, clock.now, cfg);
    const b = referenceStep(slow, command, clock.now, cfg);
    expect(observable(fast, a, clock.now, fastVisible)).toEqual(observable(slow, b, clock.now, slowVisible));
    fast = a.state;
    slow = b.state;
    return a;
  };
}

describe('issue #7: the optimised step equals the reference step', () => {
  it('on random command sequences: same states (in order), events, audit, responses, visibility and writes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...cfgs), fc.array(fc.tuple(opArb, dtArb), { minLength: 1, maxLength: 80, size: 'max' }), (cfg, list) => {
        let fast: RepositoryState = { repository: REPO, records: new Map(), tags: new Map() };
        let slow: RepositoryState = referenceEmpty(REPO);
        let now = T0;
        const sent: Record<string, unknown>[] = [];
        for (const [op, dt] of list) {
          now += dt;
          if (op.k === 'tick') now += op.ms;
          if (op.k === 'reload') {
            fast = plain(fast);
            slow = plain(slow);
          }
          const steps: Exclude<Op, { k: 'land' }>[] =
            op.k === 'land'
              ? [
                  { k: 'push', d: op.d, tag: op.tag },
                  ...[0, 1].map((scanner) => ({ k: 'verdict' as const, d: op.d, scanner, result: 'pass' as const, genDelta: 0, key: 9, findings: false })),
                ]
              : [op];
          for (const o of steps) {
            const command = commandFor(o, slow, now, sent);
            const a = step(fast, command, now, cfg);
            const b = referenceStep(slow, command, now, cfg);
            expect(observable(fast, a, now, fastVisible)).toEqual(observable(slow, b, now, slowVisible));
            fast = a.state;
            slow = b.state;
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a digest that becomes visible again names its first live tag in tag-map order on its push event', () => {
    const cfg = config({ scanners: ['s1'] });
    const clock = { now: T0 };
    const run = lockstep(cfg, clock);
    const pass = (d: string) => run({ type: 'verdict', repository: REPO, digest: d, generation: 1, scannerId: 's1', idempotencyKey: `p-${d}`, result: 'pass', principal: writer });
    const [d0, d1] = [P[0] as string, P[1] as string];
    run({ type: 'push', repository: REPO, digest: d1, tag: 'x', principal: ci });
    run({ type: 'push', repository: REPO, digest: d0, tag: 'y', principal: ci });
    pass(d0);
    pass(d1);
    // x moves to d0 after y: the index lists (y, x) for d0, the tag map (x, y).
    run({ type: 'push', repository: REPO, digest: d0, tag: 'x', principal: ci });
    run({ type: 'revoke', repository: REPO, digest: d0, principal: ops, reason: 'bad' });
    const r = run({ type: 'release', repository: REPO, digest: d0, principal: ops, reason: 'INC-2', expiresAt: clock.now + 1000 });
    expect(r.events.find((e) => e.type === 'push')?.tag).toBe('x');
    clock.now += 1000;
    run({ type: 'tick', repository: REPO });
    const again = run({ type: 'release', repository: REPO, digest: d0, principal: ops, reason: 'INC-3', expiresAt: clock.now + 1000 });
    expect(again.events.find((e) => e.type === 'push')?.tag).toBe('x');
  });

  it('a waiver renewed by the clock and a command on the same digest in one step emit one push', () => {
    const cfg = waiverCfg();
    const clock = { now: T0 };
    const run = lockstep(cfg, clock);
    const d = P[4] as string;
    run({ type: 'push', repository: REPO, digest: d, tag: 'v1', principal: ci });
    let last: StepResult | undefined;
    for (const scannerId of ['s1', 's2']) {
      last = run({ type: 'verdict', repository: REPO, digest: d, generation: 1, scannerId, idempotencyKey: scannerId, result: 'fail', findings: [{ id: WAIVED, severity: 'Critical' }], principal: writer });
    }
    expect(last?.state.records.get(d)).toMatchObject({ state: 'Passed', validUntil: T0 + 150_000 });
    clock.now = T0 + 150_000;
    const r = run({ type: 'rescan', repository: REPO, digest: d, principal: writer });
    expect(r.events.filter((e) => e.type === 'push')).toHaveLength(1);
    expect(r.state.records.get(d)).toMatchObject({ state: 'Passed', validUntil: T0 + 400_000 });
  });

  it('stepping many times from one stored state (the benchmark shape) matches the reference', async () => {
    const cfg = cfgs[0] as QuarantineConfig;
    const store = createMemoryStore();
    let slow: RepositoryState = referenceEmpty(REPO);
    // Build a 60-digest repository through the store so that its snapshot has folded overlays.
    for (let i = 0; i < 60; i++) {
      const digest = `sha256:${(1000 + i).toString(16).repeat(16)}`;
      for (const command of [
        { type: 'push', repository: REPO, digest, tag: `t${i % 7}`, principal: ci },
        ...(i % 3 === 0 ? [] : [{ type: 'verdict', repository: REPO, digest, generation: 1, scannerId: 's1', idempotencyKey: `k${i}`, result: 'pass', principal: writer }]),
        ...(i % 3 === 1 ? [{ type: 'verdict', repository: REPO, digest, generation: 1, scannerId: 's2', idempotencyKey: `k${i}`, result: 'pass', principal: writer }] : []),
      ]) {
        const before = await store.load(REPO);
        const r = step(before, command, T0 + i, cfg);
        await store.commit(unitOfWork(before, r));
        slow = referenceStep(slow, command, T0 + i, cfg).state;
      }
    }
    const s0 = await store.load(REPO);
    expect([...s0.records.entries()]).toEqual([...slow.records.entries()]);
    expect([...s0.tags.entries()]).toEqual([...slow.tags.entries()]);
    for (let i = 0; i < 40; i++) {
      const digest = `sha256:${(5000 + i).toString(16).repeat(16)}`;
      const now = T0 + 100 + (i % 4) * DEADLINE;
      const push = { type: 'push', repository: REPO, digest, tag: i % 2 === 0 ? 'incoming' : 't3', principal: ci };
      const a1 = step(s0, push, now, cfg);
      const b1 = referenceStep(slow, push, now, cfg);
      expect(observable(s0, a1, now, fastVisible)).toEqual(observable(slow, b1, now, slowVisible));
      for (const scannerId of ['s1', 's2']) {
        const v = { type: 'verdict', repository: REPO, digest, generation: 1, scannerId, idempotencyKey: `n${i}`, result: 'pass', principal: writer };
        const a2 = step(a1.state, v, now, cfg);
        const b2 = referenceStep(b1.state, v, now, cfg);
        expect(observable(a1.state, a2, now, fastVisible)).toEqual(observable(b1.state, b2, now, slowVisible));
      }
    }
  });

  it('the memory store hands out immutable snapshots: later commits do not show through, rows cannot be changed', async () => {
    const cfg = config();
    const store = createMemoryStore();
    const commit = async (command: Record<string, unknown>) => {
      const before = await store.load(REPO);
      await store.commit(unitOfWork(before, step(before, command, T0, cfg)));
    };
    await commit({ type: 'push', repository: REPO, digest: P[0], tag: 'v1', principal: ci });
    const s1 = await store.load(REPO);
    const rows = [...s1.records.entries()];
    const tags = [...s1.tags.entries()];
    await commit({ type: 'push', repository: REPO, digest: P[1], tag: 'v1', principal: ci });
    await commit({ type: 'verdict', repository: REPO, digest: P[0], generation: 1, scannerId: 's1', idempotencyKey: 'a', result: 'pass', principal: writer });
    expect([...s1.records.entries()]).toEqual(rows);
    expect([...s1.tags.entries()]).toEqual(tags);
    expect((await store.load(REPO)).records.size).toBe(2);
    const rec = s1.records.get(P[0] as string);
    expect(Object.isFrozen(rec)).toBe(true);
    expect(Object.isFrozen(rec?.verdicts)).toBe(true);
    expect(() => (rec?.verdicts as unknown[]).push(1)).toThrow(TypeError);
  });

  it('deterministicUuid is unchanged (version 8 / variant 10 over SHA-256)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (key) => {
        const h = createHash('sha256').update(key, 'utf8').digest();
        h[6] = ((h[6] ?? 0) & 0x0f) | 0x80;
        h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
        const x = h.subarray(0, 16).toString('hex');
        expect(deterministicUuid(key)).toBe(`${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('PersistentMap', () => {
  it('behaves like a copied Map under random updates, shares nothing observable, and reports changed keys', () => {
    const batch = fc.array(fc.tuple(fc.integer({ min: 0, max: 120 }), fc.integer()), { maxLength: 12 });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), batch), { maxLength: 60 }), (updates) => {
        const versions: { p: PersistentMap<number, { v: number }>; m: Map<number, { v: number }> }[] = [
          { p: PersistentMap.from<number, { v: number }>([]), m: new Map() },
        ];
        for (const [from, changes] of updates) {
          const parent = versions[from % versions.length] as (typeof versions)[number];
          const delta = new Map(changes.map(([k, v]): [number, { v: number }] => [k, { v }]));
          const m = new Map(parent.m);
          for (const [k, v] of delta) m.set(k, v);
          const p = parent.p.update(delta);
          versions.push({ p, m });
          const changed = p.changedSince(parent.p);
          if (changed !== undefined) {
            for (const [k, v] of m) if (parent.m.get(k) !== v) expect(changed).toContain(k);
            expect(changed).toEqual([...m.keys()].filter((k) => changed.includes(k)));
          }
        }
        for (const { p, m } of versions) {
          expect([...p.entries()]).toEqual([...m.entries()]);
          expect([...p.keys()]).toEqual([...m.keys()]);
          expect([...p.values()]).toEqual([...m.values()]);
          expect(p.size).toBe(m.size);
          for (let k = -1; k <= 121; k += 7) {
            expect(p.get(k)).toBe(m.get(k));
            expect(p.has(k)).toBe(m.has(k));
          }
          const keys = [...m.keys()];
          expect(p.inOrder([...keys].reverse())).toEqual(keys);
          const seen: number[] = [];
          p.forEach((_, k) => seen.push(k));
          expect(seen).toEqual(keys);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('copies a source Map: later changes to it do not show through', () => {
    const src = new Map([['a', { v: 1 }]]);
    const p = PersistentMap.from(src);
    src.set('b', { v: 2 });
    expect([...p.keys()]).toEqual(['a']);
  });
});

describe('principal helpers (rewritten for speed)', () => {
  it('principalKind names the strongest role, hasRole matches any listed role, unknown strings are ignored', async () => {
    const { hasRole, principalKind } = await import('../../src/quarantine/principals.js');
    const all = ['push', 'quarantine-reader', 'quarantine-writer', 'overrider', 'quarantine-admin', 'constructor', 'toString'] as const;
    const order = ['quarantine-admin', 'overrider', 'quarantine-writer', 'quarantine-reader', 'push'] as const;
    const kinds = { 'quarantine-admin': 'admin', overrider: 'overrider', 'quarantine-writer': 'writer', 'quarantine-reader': 'reader', push: 'pusher' } as const;
    fc.assert(
      fc.property(fc.subarray([...all]), fc.subarray([...order]), (held, asked) => {
        const p = { id: 'x', roles: held as never[] };
        const strongest = order.find((r) => (held as readonly string[]).includes(r));
        expect(principalKind(p)).toBe(strongest === undefined ? 'ordinary' : kinds[strongest]);
        expect(hasRole(p, ...asked)).toBe(asked.some((r) => (held as readonly string[]).includes(r)));
      }),
    );
  });
});
