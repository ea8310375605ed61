/**
 * The working copy one step edits: the immutable repository state it started from plus the rows
 * the step changed, the events and audit records it produced, and the actor and guard helpers the
 * command handlers share (quarantine.md §5 Q16, Q21, Q22).
 *
 * @module
 */
import { TrustError } from '../errors.js';
import { buildEvent } from './events.js';
import type { AuditDraft, EventExtras, QuarantineEvent } from './events.js';
import { hasRole, principalKind } from './principals.js';
import type { QuarantineConfig } from './schemas.js';
import { emptyTag } from './tags.js';
import { recordIndex, recordMap, tagMap, tagsNaming, updateRecords, updateTags } from './repo-index.js';
import type { RecordMap, TagMap } from './repo-index.js';
import type { DigestRecord, EventType, Principal, PrincipalKind, RepositoryState, TagBinding } from './types.js';
import { isVisibleIn } from './visibility-rule.js';

/** Who a step acts for, as audit records and events name it. */
export interface Actor {
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly command: string;
  readonly reason?: string | undefined;
}

/** A record lookup by digest. */
export type Lookup = (digest: string) => DigestRecord | undefined;

/** A saved working copy (see {@link Draft.checkpoint}). */
export interface Checkpoint {
  readonly records: Map<string, DigestRecord>;
  readonly tags: Map<string, TagBinding>;
  readonly events: number;
  readonly audit: number;
}

/**
 * A working copy of one repository for the length of one step: the (immutable, shared) state it
 * started from plus the rows this step changed. Nothing here is proportional to repository size.
 */
export class Draft {
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
      this.dueLowerBound === undefined
        ? undefined
        : { ...recordIndex(this.baseRecords), dueLowerBound: this.dueLowerBound };
    return {
      repository: this.base.repository,
      records: updateRecords(this.baseRecords, records, index),
      tags: updateTags(this.baseTags, tags),
    };
  }
}

/** The clock's principal. */
export const SYSTEM: Principal = { id: 'system:clock', roles: [] };

/** Refuses the command: the step turns this into a rejection (Q4). */
export function reject(code: TrustError['code'], message: string, details: ConstructorParameters<typeof TrustError>[2] = {}): never {
  throw new TrustError(code, message, details);
}

export function requireRole(p: Principal, ...roles: Parameters<typeof hasRole>[1][]): void {
  if (!hasRole(p, ...roles)) {
    reject('ERR_UNAUTHORIZED', `principal ${p.id} lacks role ${roles.join(' or ')}`, { expected: roles.join('|') });
  }
}

export function requireRecord(d: Draft, digest: string, allowDeleted: boolean): DigestRecord {
  const rec = d.rec(digest);
  if (rec === undefined || (!allowDeleted && rec.deleted)) reject('ERR_NOT_FOUND', `unknown manifest ${digest}`);
  return rec;
}

export function actorOf(p: Principal, command: string, reason?: string): Actor {
  return { id: p.id, kind: principalKind(p), command, reason };
}
