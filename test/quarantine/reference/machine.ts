/**
 * TEST-ONLY REFERENCE: the quarantine core as it was before issue #7 (full copies of the maps,
 * visibility recomputed over the whole repository, every digest sorted for deadlines), kept verbatim
 * apart from import paths and the three semantic changes marked "Q16" below, so that `incremental.test.ts` can check the optimised `step` against it.
 * Issue 12 changed the semantics in ways the differential tests exercise; each such change is marked
 * "Issue 12" here too (closed generations, duplicate replays, pushers, audit time, malformed-command
 * kinds, referrer inheritance, standing releases).
 * Do not optimise this file. Effective visibility, `hasRole` and `principalKind` are copied here
 * as `src/quarantine/visible.ts` had them before issue #7 (src has since rewritten them), so that
 * the oracle shares no code with what it checks for them; of visible.ts only the per-record
 * predicate `isRecordVisible` is imported.
 *
 * The pure quarantine core: `step(state, command, now, config) → { state', events, audit }`.
 *
 * Implements quarantine.md §5–§6 for one repository. No I/O, no timers, no clock:
 * time enters only as `now`, and everything due at or before `now` (scan deadlines, release
 * lapses, waiver expiries) is applied first, in time order, so that evaluating later gives the
 * same result as evaluating on time.
 *
 * @module
 */
import { TrustError, isTrustError } from '../../../src/errors.js';
import { buildEvent } from '../../../src/quarantine/events.js';
import type { AuditDraft, EventExtras, QuarantineEvent } from '../../../src/quarantine/events.js';
import { evaluateFindings, scannerOutcome } from '../../../src/quarantine/findings-policy.js';
import { decideQuorum } from '../../../src/quarantine/quorum.js';
import { commandSchema, principalSchema, summarize } from '../../../src/quarantine/schemas.js';
import type { Command, QuarantineConfig } from '../../../src/quarantine/schemas.js';
import { bindOnPush, clearTag, emptyTag, isTagEmpty, promote, unbindDigest } from '../../../src/quarantine/tags.js';
import { TRANSITIONS, transition } from '../../../src/quarantine/transitions.js';
import type {
  DigestRecord,
  EventType,
  MachineEvent,
  NonVisibleState,
  Principal,
  PrincipalKind,
  QuarantineState,
  RepositoryState,
  Role,
  StoredVerdict,
  TagBinding,
  VerdictResponse,
} from '../../../src/quarantine/types.js';
import { isRecordVisible } from '../../../src/quarantine/visibility-rule.js';

// Principal helpers as `src/quarantine/visible.ts` had them before issue #7.
function hasRole(p: Principal, ...roles: Role[]): boolean {
  return p.roles.some((r) => roles.includes(r));
}

function principalKind(p: Principal): PrincipalKind {
  if (hasRole(p, 'overrider')) return 'overrider';
  if (hasRole(p, 'quarantine-writer')) return 'writer';
  if (hasRole(p, 'quarantine-reader')) return 'reader';
  if (hasRole(p, 'push')) return 'pusher';
  return 'ordinary';
}

// Visibility as `src/quarantine/visible.ts` computed it before issue #7 (full recomputation).
function isVisible(state: RepositoryState, digest: string, now: number): boolean {
  return visibleOnPath(state, digest, now, new Set());
}

function visibleOnPath(state: RepositoryState, digest: string, now: number, path: Set<string>): boolean {
  const rec = state.records.get(digest);
  // Issue 12.4: a referrer inherits its subject's visibility (not deleted, not failed itself).
  const own = rec !== undefined && (rec.subject === undefined ? isRecordVisible(rec, now) : !rec.deleted && rec.state !== 'Failed');
  if (rec === undefined || !own || path.has(digest)) return false;
  path.add(digest);
  try {
    for (const child of rec.children) if (!visibleOnPath(state, child, now, path)) return false;
    return rec.subject === undefined || visibleOnPath(state, rec.subject, now, path);
  } finally {
    path.delete(digest);
  }
}

export function visibleDigests(state: RepositoryState, now: number): Set<string> {
  const out = new Set<string>();
  for (const d of state.records.keys()) if (isVisible(state, d, now)) out.add(d);
  return out;
}

/**
 * What an accepted command answers.
 *
 * @example
 * ```ts
 * declare const r: CommandResponse;
 * r.verdict?.duplicate; // true when an idempotency key was replayed
 * ```
 */
export interface CommandResponse {
  readonly command: Command['type'];
  readonly digest: string | undefined;
  readonly state: QuarantineState | undefined;
  readonly generation: number | undefined;
  readonly visible: boolean | undefined;
  readonly verdict: VerdictResponse | undefined;
}

/**
 * The result of {@link step}. A rejected command leaves the state as the clock left it and adds
 * exactly one `rejected` audit record (Q4); its error is returned, never swallowed.
 *
 * @example
 * ```ts
 * declare const r: StepResult;
 * if (!r.ok) throw r.error;
 * ```
 */
export type StepResult =
  | {
      readonly ok: true;
      readonly state: RepositoryState;
      readonly events: readonly QuarantineEvent[];
      readonly audit: readonly AuditDraft[];
      readonly response: CommandResponse;
    }
  | {
      readonly ok: false;
      readonly state: RepositoryState;
      readonly events: readonly QuarantineEvent[];
      readonly audit: readonly AuditDraft[];
      readonly error: TrustError;
    };

/**
 * A repository with no records and no tags.
 *
 * @example
 * ```ts
 * import { emptyRepository } from 'trustgate/quarantine';
 * emptyRepository('team/app').records.size; // 0
 * ```
 */
export function emptyRepository(repository: string): RepositoryState {
  return { repository, records: new Map(), tags: new Map() };
}

const SYSTEM: Principal = { id: 'system:clock', roles: [] };
const SCAN_EVENTS: ReadonlySet<MachineEvent> = new Set([
  'scan.passed',
  'scan.failed',
  'scan.unresolved',
  'scan.retry',
  'scan.timeout',
  'rescan',
]);

interface Actor {
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly command: string;
  readonly reason?: string | undefined;
}

interface Checkpoint {
  readonly records: Map<string, DigestRecord>;
  readonly tags: Map<string, TagBinding>;
  readonly touchedRecords: Set<string>;
  readonly touchedTags: Set<string>;
  readonly events: number;
  readonly audit: number;
}

/** A mutable working copy of one repository for the length of one step. */
class Draft {
  records: Map<string, DigestRecord>;
  tags: Map<string, TagBinding>;
  touchedRecords = new Set<string>();
  touchedTags = new Set<string>();
  readonly events: QuarantineEvent[] = [];
  readonly audit: AuditDraft[] = [];

  readonly base: RepositoryState;
  readonly now: number;
  readonly config: QuarantineConfig;

  constructor(base: RepositoryState, now: number, config: QuarantineConfig) {
    this.base = base;
    this.now = now;
    this.config = config;
    this.records = new Map(base.records);
    this.tags = new Map(base.tags);
  }

  view(): RepositoryState {
    return { repository: this.base.repository, records: this.records, tags: this.tags };
  }

  put(rec: DigestRecord): DigestRecord {
    this.records.set(rec.digest, rec);
    this.touchedRecords.add(rec.digest);
    return rec;
  }

  tag(tag: string): TagBinding {
    return this.tags.get(tag) ?? emptyTag(this.base.repository, tag);
  }

  putTag(b: TagBinding): void {
    if (b === this.tags.get(b.tag)) return;
    this.tags.set(b.tag, b);
    this.touchedTags.add(b.tag);
  }

  emit(digest: string, type: EventType, at: number, extras: EventExtras): DigestRecord {
    const cur = this.records.get(digest);
    if (cur === undefined) throw new TrustError('ERR_NOT_FOUND', `no record for ${digest}`);
    const rec = this.put({ ...cur, sequence: cur.sequence + 1 });
    this.events.push(buildEvent(rec, type, at, extras));
    return rec;
  }

  record(at: number, actor: Actor, fields: Partial<AuditDraft>): void {
    this.audit.push({
      at,
      actor: actor.id,
      principalKind: actor.kind,
      command: actor.command,
      outcome: 'applied',
      repository: this.base.repository,
      digest: undefined,
      tag: undefined,
      from: undefined,
      to: undefined,
      generation: undefined,
      policyVersion: this.config.policyVersion,
      reason: actor.reason,
      code: undefined,
      ...fields,
    });
  }

  checkpoint(): Checkpoint {
    return {
      records: new Map(this.records),
      tags: new Map(this.tags),
      touchedRecords: new Set(this.touchedRecords),
      touchedTags: new Set(this.touchedTags),
      events: this.events.length,
      audit: this.audit.length,
    };
  }

  restore(cp: Checkpoint): void {
    this.records = cp.records;
    this.tags = cp.tags;
    this.touchedRecords = cp.touchedRecords;
    this.touchedTags = cp.touchedTags;
    this.events.length = cp.events;
    this.audit.length = cp.audit;
  }

  /** Each changed row gets exactly one version bump per step (Q16: version = accepted changes). */
  finish(): RepositoryState {
    const records = new Map(this.records);
    for (const d of this.touchedRecords) {
      const rec = records.get(d);
      if (rec !== undefined) records.set(d, { ...rec, version: (this.base.records.get(d)?.version ?? 0) + 1 });
    }
    const tags = new Map(this.tags);
    for (const t of this.touchedTags) {
      const b = tags.get(t);
      if (b !== undefined) tags.set(t, { ...b, version: (this.base.tags.get(t)?.version ?? 0) + 1 });
    }
    return { repository: this.base.repository, records, tags };
  }
}

/** Applies one machine event through the table; the only place a record's `state` changes. */
function fire(
  d: Draft,
  rec: DigestRecord,
  event: MachineEvent,
  at: number,
  actor: Actor,
  patch: (to: QuarantineState) => Partial<DigestRecord>,
): DigestRecord {
  const guards = { onNewFindings: d.config.onNewFindings };
  const rule = transition(rec.state, event, guards);
  let to: QuarantineState;
  if (rule.to === 'previous') {
    if (rec.release === undefined) throw new TrustError('ERR_ILLEGAL_TRANSITION', 'release has no previous state');
    to = rec.release.previous;
  } else {
    to = rule.to;
  }
  let release = rec.release;
  if (rec.state === 'Released' && to === 'Released' && release !== undefined && SCAN_EVENTS.has(event)) {
    // Under a release, scan events keep moving the state the release will fall back to.
    const under = transition(release.previous, event, guards).to;
    if (under === 'Quarantined' || under === 'Failed' || under === 'Unresolved') {
      release = { ...release, previous: under satisfies NonVisibleState };
    }
  }
  // Issue 12.2: a release granted before a pass stands until it expires or is revoked.
  let emits = rule.emits;
  if ((to === 'Failed' || to === 'Quarantined' || to === 'Unresolved') && rec.state === 'Passed' && event !== 'revoke' && rec.release !== undefined && at < rec.release.expiresAt) {
    release = { ...rec.release, previous: to };
    emits = TRANSITIONS.Released[event]?.[0]?.emits ?? emits;
    to = 'Released';
  }
  if (to !== 'Released' && !(to === 'Passed' && event !== 'revoke')) release = undefined;
  const next: DigestRecord = { ...rec, release, ...patch(to), state: to };
  const underlying = next.state === 'Released' ? next.release?.previous : next.state;
  d.put({ ...next, unresolvedReason: underlying === 'Unresolved' ? next.unresolvedReason : undefined });
  // Issue 12: audit `at` is the step's now (monotone in seq); events keep the due time.
  d.record(d.now, actor, { digest: rec.digest, from: rec.state, to, generation: next.generation });
  let out = d.records.get(rec.digest) ?? next;
  for (const type of emits) {
    out = d.emit(rec.digest, type, at, { from: rec.state, actor: actor.id, reason: actor.reason });
  }
  return out;
}

/** Promotes pending tags and emits ACR `push` for every digest that just became visible (Q9, Q21). */
function settle(d: Draft, before: ReadonlySet<string>, at: number): void {
  const after = visibleDigests(d.view(), at);
  // Q16 (the second semantic change since the copy): every record that depends, transitively,
  // on a digest whose visibility changed is written, so concurrent changes to two children conflict.
  const changed = [...d.records.keys()].filter((x) => before.has(x) !== after.has(x));
  const dependents = new Set<string>();
  for (let queue = [...changed], x = queue.pop(); x !== undefined; x = queue.pop()) {
    for (const r of d.records.values()) {
      if (dependents.has(r.digest) || !(r.children.includes(x) || r.subject === x)) continue;
      dependents.add(r.digest);
      queue.push(r.digest);
    }
  }
  for (const p of dependents) {
    const rec = d.records.get(p);
    if (rec !== undefined && !d.touchedRecords.has(p)) d.put(rec);
  }
  for (const digest of [...after].sort()) {
    if (before.has(digest)) continue;
    const promoted: string[] = [];
    for (const [name, b] of [...d.tags].sort(([a], [z]) => (a < z ? -1 : 1))) {
      const p = promote(b, digest);
      if (p !== b) {
        d.putTag(p);
        promoted.push(name);
      }
    }
    const liveTag = promoted[0] ?? [...d.tags.values()].find((b) => b.live?.digest === digest)?.tag;
    d.emit(digest, 'push', at, { tag: liveTag });
  }
}

function nextDue(rec: DigestRecord): { at: number; kind: 'deadline' | 'release' | 'waiver' } | undefined {
  const c: { at: number; kind: 'deadline' | 'release' | 'waiver' }[] = [];
  if (rec.scanOpen && rec.deadline !== undefined) c.push({ at: rec.deadline, kind: 'deadline' });
  if (rec.state === 'Released' && rec.release !== undefined) c.push({ at: rec.release.expiresAt, kind: 'release' });
  if (rec.state === 'Passed' && rec.validUntil !== undefined) c.push({ at: rec.validUntil, kind: 'waiver' });
  c.sort((a, b) => a.at - b.at);
  return c[0];
}

/** Applies everything due at or before `d.now` (Q3: only ever removes visibility). */
function advanceTime(d: Draft): void {
  const { config } = d;
  for (const digest of [...d.records.keys()].sort()) {
    for (;;) {
      const rec = d.records.get(digest);
      if (rec === undefined) break;
      const due = nextDue(rec);
      if (due === undefined || due.at > d.now) break;
      const actor: Actor = { id: SYSTEM.id, kind: 'system', command: 'tick' };
      if (due.kind === 'deadline') {
        if (rec.retries < config.maxRetries) {
          fire(d, rec, 'scan.retry', due.at, { ...actor, reason: 'scan deadline passed; retrying' }, () => ({
            generation: rec.generation + 1,
            retries: rec.retries + 1,
            deadline: due.at + config.scanDeadlineMs,
            verdicts: [],
          }));
        } else {
          // §4: deadline → retries → Unresolved, never Passed.
          fire(d, rec, 'scan.timeout', due.at, { ...actor, reason: 'scan deadline passed; no retries left' }, () => ({
            scanOpen: false,
            deadline: undefined,
            unresolvedReason: 'timeout',
          }));
        }
      } else if (due.kind === 'release') {
        fire(d, rec, 'release.expired', due.at, { ...actor, reason: 'release expired' }, () => ({}));
      } else {
        const policy =
          config.evaluation.mode === 'findings'
            ? { threshold: config.evaluation.threshold, fixableOnly: config.evaluation.fixableOnly, waivers: config.waivers }
            : undefined;
        const e = policy === undefined ? undefined : evaluateFindings(rec.findings, policy, rec.repository, digest, due.at);
        if (e !== undefined && e.outcome === 'pass' && e.validUntil !== undefined && e.validUntil > due.at) {
          d.put({ ...rec, validUntil: e.validUntil });
        } else if (e === undefined || e.outcome === 'pass') {
          d.put({ ...rec, validUntil: undefined });
        } else {
          // Q15: the registry's re-evaluation is a new generation, so a terminal verdict moves only upward.
          fire(d, rec, 'waiver.expired', due.at, { ...actor, reason: 'waiver expired' }, () => ({
            generation: rec.generation + 1,
            verdictGeneration: rec.generation + 1,
            scanOpen: false,
            deadline: undefined,
            retries: 0,
            verdicts: [],
            validUntil: undefined,
          }));
        }
      }
    }
  }
}

function reject(code: TrustError['code'], message: string, details: ConstructorParameters<typeof TrustError>[2] = {}): never {
  throw new TrustError(code, message, details);
}

function requireRole(p: Principal, ...roles: Parameters<typeof hasRole>[1][]): void {
  if (!hasRole(p, ...roles)) {
    reject('ERR_UNAUTHORIZED', `principal ${p.id} lacks role ${roles.join(' or ')}`, { expected: roles.join('|') });
  }
}

function requireRecord(d: Draft, digest: string, allowDeleted: boolean): DigestRecord {
  const rec = d.records.get(digest);
  if (rec === undefined || (!allowDeleted && rec.deleted)) reject('ERR_NOT_FOUND', `unknown manifest ${digest}`);
  return rec;
}

function actorOf(p: Principal, command: string, reason?: string): Actor {
  return { id: p.id, kind: principalKind(p), command, reason };
}

function openGeneration(d: Draft, rec: DigestRecord, actor: Actor): DigestRecord {
  return fire(d, rec, 'rescan', d.now, actor, () => ({
    generation: rec.generation + 1,
    scanOpen: true,
    deadline: d.now + d.config.scanDeadlineMs,
    retries: 0,
    verdicts: [],
  }));
}

function fingerprint(c: Extract<Command, { type: 'verdict' }>): string {
  return JSON.stringify([c.generation ?? null, c.result, c.findings, c.link ?? null]);
}

function unresolvedReasonOf(verdicts: readonly StoredVerdict[]): DigestRecord['unresolvedReason'] {
  if (verdicts.some((v) => v.result === 'error')) return 'error';
  if (verdicts.some((v) => v.result === 'unsupported')) return 'unsupported';
  return 'quorum';
}

function applyVerdict(d: Draft, c: Extract<Command, { type: 'verdict' }>): VerdictResponse {
  const { config, now } = d;
  requireRole(c.principal, 'quarantine-writer');
  if (!config.scanners.includes(c.scannerId)) reject('ERR_UNKNOWN_SCANNER', `unknown scanner ${c.scannerId}`);
  let rec = requireRecord(d, c.digest, true);
  const fp = fingerprint(c);
  const prior = rec.responses.find((r) => r.scannerId === c.scannerId && r.idempotencyKey === c.idempotencyKey);
  if (prior !== undefined) {
    // Q14: a replay returns the first answer and changes nothing, not even the audit log.
    if (prior.fingerprint === fp) return { ...prior.response, duplicate: true };
    reject('ERR_INVALID_COMMAND', 'idempotency key reused with a different verdict', { check: 'idempotency key' });
  }
  const actor = actorOf(c.principal, 'verdict');
  let generation = c.generation;
  if (generation === undefined) {
    if (!config.legacyLastWriterWins) reject('ERR_INVALID_COMMAND', 'verdict has no generation', { check: 'generation' });
    if (!rec.scanOpen) rec = openGeneration(d, rec, { ...actor, reason: 'legacy last-writer-wins verdict' });
    generation = rec.generation;
  }
  if (generation !== rec.generation) {
    // Q12: a stale (or not yet opened) generation never changes anything.
    reject('ERR_CONFLICT', `verdict for generation ${generation}, current is ${rec.generation}`, {
      check: 'generation',
      expected: rec.generation,
      actual: generation,
    });
  }
  if (!rec.scanOpen && decideQuorum(rec.verdicts, config) === 'pending') {
    // Issue 12.1 (quarantine.md §6, Q17): the generation was closed by its deadline (or an
    // override) before its verdicts decided it. Accepting the verdict as "final" would tell the
    // scanner it took effect when it did not; it is refused, and the scanner must rescan.
    reject('ERR_CONFLICT', `generation ${generation} was closed before a decision; request a rescan`, { check: 'generation closed' });
  }
  if (rec.verdicts.some((v) => v.scannerId === c.scannerId)) {
    reject('ERR_CONFLICT', `scanner ${c.scannerId} already reported for generation ${generation}`, { check: 'one verdict per scanner' });
  }
  const o = scannerOutcome(c.result, c.findings, config, rec.repository, rec.digest, now);
  const v: StoredVerdict = {
    scannerId: c.scannerId,
    idempotencyKey: c.idempotencyKey,
    result: c.result,
    outcome: o.outcome,
    findings: c.findings,
    validUntil: o.validUntil,
    at: now,
    link: c.link,
  };
  rec = d.put({ ...rec, verdicts: [...rec.verdicts, v] });
  rec = d.emit(rec.digest, 'scan.verdict', now, { actor: c.principal.id, reason: `${c.scannerId}: ${c.result}` });
  let decision: VerdictResponse['decision'] = 'final';
  if (rec.scanOpen) {
    decision = decideQuorum(rec.verdicts, config);
    if (decision !== 'pending') {
      const event: MachineEvent = decision === 'pass' ? 'scan.passed' : decision === 'fail' ? 'scan.failed' : 'scan.unresolved';
      const decided = rec;
      const validUntils = decided.verdicts.flatMap((x) => (x.outcome === 'pass' && x.validUntil !== undefined ? [x.validUntil] : []));
      rec = fire(d, decided, event, now, actor, (to) => ({
        scanOpen: false,
        deadline: undefined,
        ...(to === decided.state && decided.state === 'Passed' && event !== 'scan.passed'
          ? { findings: decided.verdicts.flatMap((x) => x.findings) }
          : {
              verdictGeneration: generation,
              findings: decided.verdicts.flatMap((x) => x.findings),
              validUntil: decision === 'pass' && validUntils.length > 0 ? Math.min(...validUntils) : undefined,
              unresolvedReason: unresolvedReasonOf(decided.verdicts),
            }),
      }));
    }
  }
  if (decision === 'pending' || decision === 'final') {
    d.record(now, actor, { digest: rec.digest, from: rec.state, to: rec.state, generation: rec.generation });
  }
  const response: VerdictResponse = { state: rec.state, generation: rec.generation, decision, duplicate: false };
  const latest = d.records.get(rec.digest) ?? rec;
  d.put({
    ...latest,
    responses: [...latest.responses, { scannerId: c.scannerId, idempotencyKey: c.idempotencyKey, fingerprint: fp, response }],
  });
  return response;
}

function applyCommand(d: Draft, c: Command): CommandResponse {
  const { now, config } = d;
  const respond = (digest: string | undefined, verdict?: VerdictResponse): CommandResponse => {
    const rec = digest === undefined ? undefined : d.records.get(digest);
    return {
      command: c.type,
      digest,
      state: rec?.state,
      generation: rec?.generation,
      visible: digest === undefined ? undefined : isVisible(d.view(), digest, now),
      verdict,
    };
  };
  switch (c.type) {
    case 'tick':
      return respond(undefined);
    case 'push': {
      if (!(hasRole(c.principal, 'push') || (c.subject !== undefined && hasRole(c.principal, 'quarantine-writer')))) {
        reject('ERR_UNAUTHORIZED', `principal ${c.principal.id} may not push`, { expected: 'push' });
      }
      const actor = actorOf(c.principal, 'push');
      const existing = d.records.get(c.digest);
      if (existing === undefined) {
        const rec: DigestRecord = {
          repository: c.repository,
          digest: c.digest,
          state: 'Quarantined',
          version: 0,
          sequence: 0,
          generation: 1,
          scanOpen: true,
          deadline: now + config.scanDeadlineMs,
          retries: 0,
          verdictGeneration: undefined,
          unresolvedReason: undefined,
          release: undefined,
          verdicts: [],
          findings: [],
          validUntil: undefined,
          responses: [],
          kind: c.kind,
          children: c.children,
          subject: c.subject,
          mediaType: c.mediaType,
          size: c.size,
          pusher: c.principal.id,
          pushers: [c.principal.id],
          pushedAt: now,
          deleted: false,
          policyVersion: config.policyVersion,
        };
        d.put(rec);
        d.record(now, actor, { digest: c.digest, tag: c.tag, to: 'Quarantined', generation: 1 });
        d.emit(c.digest, 'quarantine', now, { tag: c.tag, actor: c.principal.id });
      } else if (existing.deleted) {
        // Q10: the retained record comes back as it was; re-push never resets a verdict.
        // Issue 12: every pusher is kept for separation of duties.
        fire(d, existing, 'push', now, actor, () => ({ deleted: false, pushers: existing.pushers.includes(c.principal.id) ? existing.pushers : [...existing.pushers, c.principal.id] }));
        d.emit(c.digest, isVisible(d.view(), c.digest, now) ? 'manifest.restored' : 'quarantine', now, {
          tag: c.tag,
          actor: c.principal.id,
        });
      } else {
        transition(existing.state, 'push', { onNewFindings: config.onNewFindings });
        if (!existing.pushers.includes(c.principal.id)) d.put({ ...existing, pushers: [...existing.pushers, c.principal.id] });
      }
      if (c.tag !== undefined) {
        d.putTag(bindOnPush(d.tag(c.tag), c.digest, isVisible(d.view(), c.digest, now)));
        if (existing !== undefined && !existing.deleted) {
          d.record(now, actor, { digest: c.digest, tag: c.tag });
          // The one semantic change since the copy (Q16, replicas.test.ts): binding a tag to a
          // record writes the record, so that it conflicts with a concurrent change of its state.
          if (d.records.get(c.digest) === existing) d.put(existing);
        }
      }
      return respond(c.digest);
    }
    case 'deleteManifest': {
      requireRole(c.principal, 'push');
      const rec = requireRecord(d, c.digest, false);
      const actor = actorOf(c.principal, 'deleteManifest');
      fire(d, rec, 'delete', now, actor, () => ({ deleted: true }));
      d.emit(c.digest, 'manifest.deleted', now, { actor: c.principal.id });
      for (const b of d.tags.values()) d.putTag(unbindDigest(b, c.digest));
      return respond(c.digest);
    }
    case 'deleteTag': {
      requireRole(c.principal, 'push');
      const b = d.tags.get(c.tag);
      if (b === undefined || isTagEmpty(b)) reject('ERR_NOT_FOUND', `unknown tag ${c.tag}`);
      d.putTag(clearTag(b));
      d.record(now, actorOf(c.principal, 'deleteTag'), { tag: c.tag });
      return respond(undefined);
    }
    case 'rescan': {
      requireRole(c.principal, 'quarantine-writer', 'overrider');
      const rec = requireRecord(d, c.digest, true);
      openGeneration(d, rec, actorOf(c.principal, 'rescan', c.reason));
      return respond(c.digest);
    }
    case 'verdict':
      return respond(c.digest, applyVerdict(d, c));
    case 'release': {
      requireRole(c.principal, 'overrider');
      const rec = requireRecord(d, c.digest, false);
      if (config.separationOfDuties && (rec.pusher === c.principal.id || rec.pushers.includes(c.principal.id))) {
        reject('ERR_UNAUTHORIZED', 'separation of duties: a pusher may not release', { check: 'separation of duties' });
      }
      transition(rec.state, 'release', { onNewFindings: config.onNewFindings });
      if (c.expiresAt <= now) reject('ERR_INVALID_COMMAND', 'release expiry is not in the future', { check: 'expiresAt' });
      if (c.expiresAt - now > config.maxReleaseTtlMs) {
        reject('ERR_INVALID_COMMAND', 'release expiry exceeds maxReleaseTtlMs', {
          check: 'expiresAt',
          expected: config.maxReleaseTtlMs,
          actual: c.expiresAt - now,
        });
      }
      const previous = rec.state as NonVisibleState;
      fire(d, rec, 'release', now, actorOf(c.principal, 'release', c.reason), () => ({
        release: { actor: c.principal.id, reason: c.reason, expiresAt: c.expiresAt, previous, at: now },
      }));
      return respond(c.digest);
    }
    case 'revoke': {
      requireRole(c.principal, 'overrider');
      const rec = requireRecord(d, c.digest, false);
      fire(d, rec, 'revoke', now, actorOf(c.principal, 'revoke', c.reason), () => ({
        scanOpen: false,
        deadline: undefined,
        verdictGeneration: rec.generation,
        validUntil: undefined,
      }));
      return respond(c.digest);
    }
  }
}

function rejectedAudit(d: Draft, raw: unknown, c: Command | undefined, e: TrustError): AuditDraft {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v.slice(0, 512) : undefined);
  const p = c !== undefined && 'principal' in c ? c.principal : undefined;
  const rawP = (typeof o['principal'] === 'object' && o['principal'] !== null ? o['principal'] : {}) as Record<string, unknown>;
  const digest = str(o['digest']);
  const rec = digest === undefined ? undefined : d.records.get(digest);
  return {
    at: d.now,
    actor: p?.id ?? str(rawP['id']) ?? 'unknown',
    // Issue 12: a malformed command's caller is described by its principal when that one is valid.
    principalKind: principalKind(p ?? { id: '', roles: principalSchema.shape.roles.safeParse(rawP['roles']).data ?? [] }),
    command: str(o['type']) ?? 'unknown',
    outcome: 'rejected',
    repository: d.base.repository,
    digest,
    tag: str(o['tag']),
    from: rec?.state,
    to: rec?.state,
    generation: rec?.generation,
    policyVersion: d.config.policyVersion,
    reason: e.message,
    code: e.code,
  };
}

/**
 * The pure core. Applies the clock, then `command` (validated here with zod), to one repository.
 * Illegal transitions, unauthorised callers, unknown scanners, malformed, stale or conflicting
 * verdicts are rejected: the result carries the {@link TrustError} and a `rejected` audit record,
 * and the state is unchanged apart from what the clock did.
 *
 * @example
 * ```ts
 * import { step, emptyRepository, parseConfig } from 'trustgate/quarantine';
 * const config = parseConfig({ scanners: ['trivy'] });
 * const r = step(emptyRepository('app'), { type: 'push', repository: 'app', digest: 'sha256:ab',
 *   principal: { id: 'ci', roles: ['push'] } }, Date.now(), config);
 * r.ok && r.response.state; // 'Quarantined'
 * ```
 */
export function step(state: RepositoryState, command: unknown, now: number, config: QuarantineConfig): StepResult {
  if (!Number.isSafeInteger(now) || now < 0) throw new TrustError('ERR_INVALID_ARGUMENT', 'now must be epoch milliseconds');
  const d = new Draft(state, now, config);
  advanceTime(d);
  settle(d, visibleDigests(state, now), now);
  const cp = d.checkpoint();
  const parsed = commandSchema.safeParse(command);
  let cmd: Command | undefined;
  try {
    if (!parsed.success) reject('ERR_INVALID_COMMAND', `invalid command: ${summarize(parsed.error)}`, { cause: parsed.error });
    cmd = parsed.data;
    if (cmd.repository !== state.repository) {
      reject('ERR_INVALID_ARGUMENT', `command for ${cmd.repository} applied to ${state.repository}`);
    }
    const before = visibleDigests(d.view(), now);
    const response = applyCommand(d, cmd);
    // Issue 12.7 (Q14): a replayed verdict commits nothing, not even the clock's effects.
    if (response.verdict?.duplicate === true) return { ok: true, state, events: [], audit: [], response };
    settle(d, before, now);
    return { ok: true, state: d.finish(), events: d.events, audit: d.audit, response };
  } catch (e) {
    if (!isTrustError(e)) throw e;
    d.restore(cp);
    // Q16 (the third semantic change since the copy): a rejection keeps not even the clock's effects.
    return { ok: false, state, events: [], audit: [rejectedAudit(d, command, cmd, e)], error: e };
  }
}
