/**
 * The persistence contract. One {@link UnitOfWork} is one SQL transaction:
 *
 * ```sql
 * UPDATE quarantine_records SET data = $1, version = $2 WHERE repository = $3 AND digest = $4 AND version = $5;
 * -- (INSERT … ON CONFLICT DO NOTHING when expectedVersion = 0; 0 rows affected ⇒ ERR_CONFLICT, ROLLBACK)
 * UPDATE quarantine_tags    SET … WHERE repository = … AND tag = … AND version = …;
 * INSERT INTO quarantine_outbox (event_id, …) VALUES …;   -- the transactional outbox (Q21)
 * INSERT INTO quarantine_audit  (…) VALUES …;             -- append-only (Q22)
 * COMMIT;
 * ```
 *
 * @module
 */
import type { AuditDraft, AuditEntry, QuarantineEvent } from './events.js';
import type { StepResult } from './machine.js';
import type { StoredPolicy } from './policy-commands.js';
import { PersistentMap } from './pmap.js';
import type { DigestRecord, RepositoryState, TagBinding } from './types.js';

/** The rows of `after` that may differ from `before`, in `after`'s order: all of them unless the two share structure. */
function candidates<V extends object>(before: ReadonlyMap<string, V>, after: ReadonlyMap<string, V>): Iterable<V> {
  const keys = after instanceof PersistentMap ? (after as PersistentMap<string, V>).changedSince(before) : undefined;
  if (keys === undefined) return after.values();
  return keys.flatMap((k) => {
    const v = after.get(k);
    return v === undefined ? [] : [v];
  });
}

/**
 * A record write guarded by compare-and-set; `expectedVersion` 0 means "must not exist yet".
 *
 * @example
 * ```ts
 * declare const rec: DigestRecord;
 * const w: RecordWrite = { record: rec, expectedVersion: rec.version - 1 };
 * ```
 */
export interface RecordWrite {
  readonly record: DigestRecord;
  readonly expectedVersion: number;
}

/**
 * A tag write guarded by compare-and-set.
 *
 * @example
 * ```ts
 * declare const b: TagBinding;
 * const w: TagWrite = { binding: b, expectedVersion: b.version - 1 };
 * ```
 */
export interface TagWrite {
  readonly binding: TagBinding;
  readonly expectedVersion: number;
}

/**
 * Everything one command commits, atomically: all writes or none.
 *
 * @example
 * ```ts
 * import { unitOfWork } from './store.js';
 * declare const before: RepositoryState; declare const result: StepResult;
 * await store.commit(unitOfWork(before, result));
 * ```
 */
export interface UnitOfWork {
  readonly repository: string;
  readonly records: readonly RecordWrite[];
  readonly tags: readonly TagWrite[];
  readonly events: readonly QuarantineEvent[];
  readonly audit: readonly AuditDraft[];
  /**
   * The state the unit was decided on, as `load` handed it out. Every store refuses the unit with
   * `ERR_CONFLICT` when the repository changed since (the SQL stores by a head version, the memory
   * store by the maps it handed out), so a decision on a stale state never commits.
   */
  readonly basis?: RepositoryState | undefined;
  /** The state after the unit; a store with a cache may keep it as the repository's next state. */
  readonly after?: RepositoryState | undefined;
  /** The revision of the policy row the unit was decided under (0: none); a caching store checks it. */
  readonly policyRevision?: number | undefined;
}

/**
 * What a command that wrote nothing was decided on, for {@link QuarantineStore.confirm}.
 *
 * @example
 * ```ts
 * declare const before: RepositoryState;
 * const d: Decision = { basis: before, policyRevision: 0 };
 * ```
 */
export interface Decision {
  readonly basis: RepositoryState;
  readonly policyRevision: number;
}

/**
 * An outbox row awaiting delivery.
 *
 * @example
 * ```ts
 * declare const o: OutboxEntry;
 * await webhook.send(o.event.acr ?? o.event);
 * ```
 */
export interface OutboxEntry {
  readonly position: number;
  readonly event: QuarantineEvent;
}

/**
 * Storage for quarantine records, tag bindings, the event outbox and the audit log.
 * Implementations must make {@link QuarantineStore.commit} atomic and linearizable per row.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from 'trustgate/quarantine';
 * const store: QuarantineStore = createMemoryStore();
 * ```
 */
export interface QuarantineStore {
  /** Every record and tag binding of a repository (an empty state if none). */
  load(repository: string): Promise<RepositoryState>;
  /** Repositories that have at least one record. */
  repositories(): Promise<readonly string[]>;
  /**
   * Applies a unit of work atomically.
   * @throws {TrustError} `ERR_CONFLICT` when any expected version does not match; nothing is written.
   */
  commit(unit: UnitOfWork): Promise<void>;
  /**
   * Optional, for stores whose `load` may answer from a cache: confirms that a command which wrote
   * nothing (a duplicate verdict, an idle tick) was decided on the current state.
   * @throws {TrustError} `ERR_CONFLICT` when the repository or policy moved since; the service then decides again.
   */
  confirm?(decision: Decision): Promise<void>;
  /** The audit log in append order, optionally filtered. */
  readAudit(filter?: { readonly repository?: string; readonly digest?: string }): Promise<readonly AuditEntry[]>;
  /** Undelivered events in commit order. */
  pendingEvents(limit?: number): Promise<readonly OutboxEntry[]>;
  /** Marks events delivered (at-least-once delivery; consumers deduplicate by `event.id`). */
  acknowledgeEvents(positions: readonly number[]): Promise<void>;
  /**
   * The registry-wide policy row written by the policy commands, if any. Optional: a store
   * without it serves the configured policy only, and the policy commands refuse to run.
   */
  loadPolicy?(): Promise<StoredPolicy | undefined>;
  /**
   * Writes the policy row and its audit record atomically.
   * @throws {TrustError} `ERR_CONFLICT` when the row's revision is not `expectedRevision`; nothing is written.
   */
  commitPolicy?(write: PolicyWrite): Promise<void>;
}

/**
 * A policy row write guarded by compare-and-set on its revision (0: no row yet), with the audit
 * record of the command (or of its rejection, with `row` undefined).
 *
 * @example
 * ```ts
 * declare const w: PolicyWrite;
 * w.row?.policyVersion; // the version the command gave the policy
 * ```
 */
export interface PolicyWrite {
  readonly row: StoredPolicy | undefined;
  readonly expectedRevision: number;
  readonly audit: readonly AuditDraft[];
}

/**
 * Turns a step result into the unit of work that persists it, with each changed row guarded by
 * the version it had when `before` was loaded.
 *
 * @example
 * ```ts
 * import { unitOfWork } from './store.js';
 * import { step } from './machine.js';
 * const before = await store.load('app');
 * await store.commit(unitOfWork(before, step(before, command, Date.now(), config)));
 * ```
 */
export function unitOfWork(before: RepositoryState, result: StepResult): UnitOfWork {
  const after = result.state;
  const records: RecordWrite[] = [];
  for (const rec of candidates(before.records, after.records)) {
    const old = before.records.get(rec.digest)?.version ?? 0;
    if (rec.version !== old) records.push({ record: rec, expectedVersion: old });
  }
  const tags: TagWrite[] = [];
  for (const b of candidates(before.tags, after.tags)) {
    const old = before.tags.get(b.tag)?.version ?? 0;
    if (b.version !== old) tags.push({ binding: b, expectedVersion: old });
  }
  return { repository: before.repository, records, tags, events: result.events, audit: result.audit };
}
