/**
 * The pure quarantine core: `step(state, command, now, config) → { state', events, audit }`.
 *
 * Implements `shared/spec/quarantine.md` §5–§6 for one repository. No I/O, no timers, no clock:
 * time enters only as `now`, and everything due at or before `now` (scan deadlines, release
 * lapses, waiver expiries) is applied first, in time order, so that evaluating later gives the
 * same result as evaluating on time.
 *
 * @module
 */
import { TrustError, isTrustError } from '../errors.js';
import { buildEvent } from './events.js';
import type { AuditDraft, EventExtras, QuarantineEvent } from './events.js';
import { decideQuorum, evaluateFindings, scannerOutcome } from './policy.js';
import { commandSchema, summarize } from './schemas.js';
import type { Command, QuarantineConfig } from './schemas.js';
import { bindOnPush, clearTag, emptyTag, isTagEmpty, promote, unbindDigest } from './tags.js';
import { transition } from './transitions.js';
import { PersistentMap } from './pmap.js';
import { dueAt, nextDue, recordIndex, recordMap, tagMap, tagsNaming, updateRecords, updateTags } from './repo-index.js';
import type { RecordMap, RefIndex, TagMap } from './repo-index.js';
import type {
  DigestRecord,
  EventType,
  MachineEvent,
  NonVisibleState,
  Principal,
  PrincipalKind,
  QuarantineState,
  RepositoryState,
  StoredVerdict,
  TagBinding,
  VerdictResponse,
} from './types.js';
import { hasRole, isVisibleIn, principalKind } from './visible.js';

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
 * The result of {@link step}. A rejected command leaves the state unchanged — the clock's effects
 * included, which the next accepted step applies — and adds exactly one `rejected` audit record
 * (Q4); its error is returned, never swallowed.
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
  return { repository, records: PersistentMap.from<string, DigestRecord>([]), tags: PersistentMap.from<string, TagBinding>([]) };
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

type Lookup = (digest: string) => DigestRecord | undefined;

interface Checkpoint {
  readonly records: Map<string, DigestRecord>;
  readonly tags: Map<string, TagBinding>;
  readonly events: number;
  readonly audit: number;
}

/**
 * A working copy of one repository for the length of one step: the (immutable, shared) state it
 * started from plus the rows this step changed. Nothing here is proportional to repository size.
 */
class Draft {
  /** Records changed by this step, in first-change order. */
  records = new Map<string, DigestRecord>();
  /** Tag bindings changed by this step, in first-change order. */
  tags = new Map<string, TagBinding>();
  /** Digests put since the last checkpoint (what a settle must look at). */
  touched = new Set<string>();
  /** When the clock scanned the base: the earliest due time of every base record it left alone. */
  dueLowerBound: number | undefined;
  readonly events: QuarantineEvent[] = [];
  readonly audit: AuditDraft[] = [];

  readonly base: RepositoryState;
  readonly baseRecords: RecordMap;
  readonly baseTags: TagMap;
  readonly now: number;
  readonly config: QuarantineConfig;
  readonly lookup: Lookup = (digest) => this.rec(digest);

  constructor(base: RepositoryState, now: number, config: QuarantineConfig) {
    this.base = base;
    this.now = now;
    this.config = config;
    this.baseRecords = recordMap(base.records);
    this.baseTags = tagMap(base.tags);
  }

  rec(digest: string): DigestRecord | undefined {
    return this.records.get(digest) ?? this.baseRecords.get(digest);
  }

  binding(tag: string): TagBinding | undefined {
    return this.tags.get(tag) ?? this.baseTags.get(tag);
  }

  visible(digest: string): boolean {
    return isVisibleIn(this.lookup, digest, this.now, this.config.status);
  }

  put(rec: DigestRecord): DigestRecord {
    this.records.set(rec.digest, rec);
    this.touched.add(rec.digest);
    return rec;
  }

  /**
   * Writes the record of `digest` unchanged so that its compare-and-set version guards it (Q16).
   * A record whose state a step read to decide something it wrote must conflict with a concurrent
   * change of that state; otherwise two replicas each commit on a state the other has changed.
   * A record this step already changed is written anyway and is left as it is: putting the base
   * row back would undo the change (e.g. the sequence bump of an event emitted for it).
   */
  touch(digest: string): void {
    if (this.records.has(digest)) return;
    const rec = this.baseRecords.get(digest);
    if (rec !== undefined) this.put(rec);
  }

  tag(tag: string): TagBinding {
    return this.binding(tag) ?? emptyTag(this.base.repository, tag);
  }

  putTag(b: TagBinding): void {
    if (b === this.binding(b.tag)) return;
    this.tags.set(b.tag, b);
  }

  /** Tags whose live or pending binding may name `digest` (a superset). */
  tagsNaming(digest: string): Set<string> {
    const out = new Set(tagsNaming(this.baseTags, digest));
    for (const [name, b] of this.tags) if (b.live?.digest === digest || b.pending?.digest === digest) out.add(name);
    return out;
  }

  /** `names` in the iteration order of the working copy's tag map. */
  tagOrder(names: Iterable<string>): string[] {
    const inBase: string[] = [];
    const added = new Set<string>();
    for (const n of names) {
      if (this.baseTags.has(n)) inBase.push(n);
      else added.add(n);
    }
    const out = this.baseTags.inOrder(inBase);
    for (const n of this.tags.keys()) if (added.has(n)) out.push(n);
    return out;
  }

  emit(digest: string, type: EventType, at: number, extras: EventExtras): DigestRecord {
    const cur = this.rec(digest);
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

  /** Saves the working copy and starts a new settle window. */
  checkpoint(): Checkpoint {
    this.touched = new Set();
    return { records: new Map(this.records), tags: new Map(this.tags), events: this.events.length, audit: this.audit.length };
  }

  /** The records as they were at `cp`. */
  lookupAt(cp: Checkpoint): Lookup {
    return (digest) => cp.records.get(digest) ?? this.baseRecords.get(digest);
  }

  restore(cp: Checkpoint): void {
    this.records = cp.records;
    this.tags = cp.tags;
    this.events.length = cp.events;
    this.audit.length = cp.audit;
  }

  /** Each changed row gets exactly one version bump per step (Q16: version = accepted changes). */
  finish(): RepositoryState {
    const records = new Map<string, DigestRecord>();
    for (const [d, rec] of this.records) records.set(d, { ...rec, version: (this.baseRecords.get(d)?.version ?? 0) + 1 });
    const tags = new Map<string, TagBinding>();
    for (const [t, b] of this.tags) tags.set(t, { ...b, version: (this.baseTags.get(t)?.version ?? 0) + 1 });
    const index =
      this.dueLowerBound === undefined ? undefined : { refs: recordIndex(this.baseRecords).refs, dueLowerBound: this.dueLowerBound };
    return {
      repository: this.base.repository,
      records: updateRecords(this.baseRecords, records, index),
      tags: updateTags(this.baseTags, tags),
    };
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
  if (to !== 'Released') release = undefined;
  const next: DigestRecord = { ...rec, release, ...patch(to), state: to };
  const underlying = next.state === 'Released' ? next.release?.previous : next.state;
  let out = d.put({ ...next, unresolvedReason: underlying === 'Unresolved' ? next.unresolvedReason : undefined });
  d.record(at, actor, { digest: rec.digest, from: rec.state, to, generation: next.generation });
  for (const type of rule.emits) {
    out = d.emit(rec.digest, type, at, { from: rec.state, actor: actor.id, reason: actor.reason });
  }
  return out;
}

/** Every record that names one of `from` as a child or subject, transitively. */
function dependentsOf(refs: RefIndex | undefined, from: Iterable<string>): Set<string> {
  const out = new Set<string>();
  if (refs === undefined) return out;
  for (let queue = [...from], x = queue.pop(); x !== undefined; x = queue.pop()) {
    for (const p of refs.get(x) ?? []) {
      if (out.has(p)) continue;
      out.add(p);
      queue.push(p);
    }
  }
  return out;
}

/**
 * Promotes pending tags and emits ACR `push` for every digest that just became visible (Q9, Q21).
 * `before` is the state the window started from and `seeds` the digests put since then: only they,
 * and the indexes and referrers that depend on them, can have changed visibility.
 */
function settle(d: Draft, before: Lookup, seeds: Iterable<string>): void {
  const { now } = d;
  const start = [...seeds];
  if (start.length === 0) return;
  // Whatever refers to a changed record may change with it. Records created by this step are not
  // in the base's index, but they are seeds themselves: only a push creates one, after the clock.
  // With the policy disabled no record's visibility depends on another's (Q23): nothing refers.
  const refs = d.config.status === 'disabled' ? undefined : recordIndex(d.baseRecords).refs;
  const affected = new Set([...start, ...dependentsOf(refs, start)]);
  // An index or referrer decides its own visibility on the records it depends on, so every record
  // that depends (transitively) on a digest whose visibility changed here is touched (found by a
  // replica property test: two children passing at once left the index's tag pending and its
  // push event unsent).
  const changed = [...affected].filter((digest) => d.visible(digest) !== isVisibleIn(before, digest, now, d.config.status));
  for (const p of dependentsOf(refs, changed)) d.touch(p);
  // Touching writes no new value, so visibility is as `changed` saw it.
  const appeared = changed.filter((digest) => d.visible(digest)).sort();
  for (const digest of appeared) {
    const promoted: string[] = [];
    const naming = d.tagsNaming(digest);
    for (const name of [...naming].sort((a, z) => (a < z ? -1 : 1))) {
      const b = d.binding(name);
      if (b === undefined) continue;
      const p = promote(b, digest);
      if (p !== b) {
        d.putTag(p);
        promoted.push(name);
      }
    }
    const liveTag = promoted[0] ?? d.tagOrder([...naming].filter((name) => d.binding(name)?.live?.digest === digest))[0];
    d.emit(digest, 'push', now, { tag: liveTag });
  }
}

/** Applies everything due at or before `d.now` (Q3: only ever removes visibility). */
function advanceTime(d: Draft): void {
  const { config } = d;
  if (d.now < recordIndex(d.baseRecords).dueLowerBound) return;
  const due: string[] = [];
  let rest = Infinity;
  for (const [digest, rec] of d.baseRecords) {
    const at = dueAt(rec);
    if (at <= d.now) due.push(digest);
    else rest = Math.min(rest, at);
  }
  d.dueLowerBound = rest;
  for (const digest of due.sort()) {
    for (;;) {
      const rec = d.rec(digest);
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
  const rec = d.rec(digest);
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
  // `rec` is the draft's latest row: every assignment above took what put, emit or fire wrote.
  d.put({
    ...rec,
    responses: [...rec.responses, { scannerId: c.scannerId, idempotencyKey: c.idempotencyKey, fingerprint: fp, response }],
  });
  return response;
}

function applyCommand(d: Draft, c: Command): CommandResponse {
  const { now, config } = d;
  const respond = (digest: string | undefined, verdict?: VerdictResponse): CommandResponse => {
    const rec = digest === undefined ? undefined : d.rec(digest);
    return {
      command: c.type,
      digest,
      state: rec?.state,
      generation: rec?.generation,
      visible: digest === undefined ? undefined : d.visible(digest),
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
      const existing = d.rec(c.digest);
      const served = existing !== undefined && !existing.deleted;
      if (served) {
        transition(existing.state, 'push', { onNewFindings: config.onNewFindings });
        // A plain registry fires `push` for every push (ACR with quarantine disabled: both webhooks).
        // A new or restored manifest gets it from the settle, as it appears; one already served, here.
        if (config.status === 'disabled') d.emit(c.digest, 'push', now, { tag: c.tag, actor: c.principal.id });
      } else if (existing === undefined) {
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
          pushedAt: now,
          deleted: false,
          policyVersion: config.policyVersion,
        };
        d.put(rec);
        d.record(now, actor, { digest: c.digest, tag: c.tag, to: 'Quarantined', generation: 1 });
        d.emit(c.digest, 'quarantine', now, { tag: c.tag, actor: c.principal.id });
      } else {
        // Q10: the retained record comes back as it was; re-push never resets a verdict.
        fire(d, existing, 'push', now, actor, () => ({ deleted: false }));
        d.emit(c.digest, d.visible(c.digest) ? 'manifest.restored' : 'quarantine', now, {
          tag: c.tag,
          actor: c.principal.id,
        });
      }
      if (c.tag !== undefined) {
        d.putTag(bindOnPush(d.tag(c.tag), c.digest, d.visible(c.digest)));
        if (served) {
          d.record(now, actor, { digest: c.digest, tag: c.tag });
          // The binding (live or pending) was decided on this record's state, and a concurrent
          // verdict, release or revoke decides which tags to promote or unbind from the tags it
          // loaded (found by test/quarantine/replicas.test.ts: a release racing a re-push left the
          // tag pending on a released digest).
          d.touch(c.digest);
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
      for (const name of d.tagsNaming(c.digest)) {
        const b = d.binding(name);
        if (b !== undefined) d.putTag(unbindDigest(b, c.digest));
      }
      return respond(c.digest);
    }
    case 'deleteTag': {
      requireRole(c.principal, 'push');
      const b = d.binding(c.tag);
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
      if (config.separationOfDuties && rec.pusher === c.principal.id) {
        reject('ERR_UNAUTHORIZED', 'separation of duties: the pusher may not release', { check: 'separation of duties' });
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

/**
 * What {@link rejectionAudit} needs besides the rejected input: when, where, under which policy,
 * and the records as the rejection saw them.
 *
 * @internal
 */
export interface RejectionContext {
  readonly at: number;
  /** `undefined` when the input named no valid repository. */
  readonly repository: string | undefined;
  readonly policyVersion: string;
  readonly lookup: (digest: string) => DigestRecord | undefined;
  /** The audit `command`; defaults to the input's `type`. */
  readonly command?: string | undefined;
}

/**
 * The `rejected` audit record of an input refused with `e` (Q4). `raw` is the input as received,
 * so every string taken from it is capped at 512 characters; `principal` is the caller when known
 * (its kind is recorded), else the actor is taken from `raw.principal.id`.
 *
 * @internal
 */
export function rejectionAudit(ctx: RejectionContext, raw: unknown, principal: Principal | undefined, e: TrustError): AuditDraft {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v.slice(0, 512) : undefined);
  const rawP = (typeof o['principal'] === 'object' && o['principal'] !== null ? o['principal'] : {}) as Record<string, unknown>;
  const digest = str(o['digest']);
  const rec = digest === undefined ? undefined : ctx.lookup(digest);
  return {
    at: ctx.at,
    actor: str(principal?.id) ?? str(rawP['id']) ?? 'unknown',
    principalKind: principal === undefined ? 'ordinary' : principalKind(principal),
    command: ctx.command ?? str(o['type']) ?? 'unknown',
    outcome: 'rejected',
    repository: ctx.repository,
    digest,
    tag: str(o['tag']),
    from: rec?.state,
    to: rec?.state,
    generation: rec?.generation,
    policyVersion: ctx.policyVersion,
    reason: e.message,
    code: e.code,
  };
}

function rejectedAudit(d: Draft, raw: unknown, c: Command | undefined, e: TrustError): AuditDraft {
  const ctx: RejectionContext = { at: d.now, repository: d.base.repository, policyVersion: d.config.policyVersion, lookup: d.lookup };
  return rejectionAudit(ctx, raw, c !== undefined && 'principal' in c ? c.principal : undefined, e);
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
  settle(d, (digest) => d.baseRecords.get(digest), [...d.records.keys()]);
  const cp = d.checkpoint();
  const parsed = commandSchema.safeParse(command);
  let cmd: Command | undefined;
  try {
    if (!parsed.success) reject('ERR_INVALID_COMMAND', `invalid command: ${summarize(parsed.error)}`, { cause: parsed.error });
    cmd = parsed.data;
    if (cmd.repository !== state.repository) {
      reject('ERR_INVALID_ARGUMENT', `command for ${cmd.repository} applied to ${state.repository}`);
    }
    const response = applyCommand(d, cmd);
    settle(d, d.lookupAt(cp), [...d.touched]);
    return { ok: true, state: d.finish(), events: d.events, audit: d.audit, response };
  } catch (e) {
    if (!isTrustError(e)) throw e;
    // Q4: a rejection changes no state. Not even the clock's effects are kept: the rejection was
    // decided on a snapshot it does not write, so committing them would let it overwrite what a
    // concurrent replica read (Q16). The next accepted step applies them, at their own times.
    d.restore(cp);
    return { ok: false, state, events: [], audit: [rejectedAudit(d, command, cmd, e)], error: e };
  }
}
