/**
 * An in-memory {@link QuarantineStore}: the reference implementation of the contract, for tests
 * and single-process use. Values are deep-copied on the way in, like a database would; records and
 * tag bindings are then frozen, so a load hands out an immutable snapshot of the repository in O(1)
 * instead of copying every row (issue #7). Events and audit entries are copied on the way out.
 *
 * @module
 */
import { TrustError } from '../errors.js';
import type { AuditEntry } from './events.js';
import type { StoredPolicy } from './policy-commands.js';
import type { OutboxEntry, QuarantineStore, UnitOfWork } from './store.js';
import { PersistentMap } from './pmap.js';
import { updateRecords, updateTags } from './repo-index.js';
import type { RecordMap, TagMap } from './repo-index.js';
import { deepFreeze } from './transitions.js';
import type { DigestRecord, RepositoryState, TagBinding } from './types.js';

interface Repo {
  records: RecordMap;
  tags: TagMap;
}

/** A deep copy that nobody can change. */
function frozenCopy<T>(value: T): T {
  return deepFreeze(structuredClone(value));
}

/**
 * Throws `ERR_CONFLICT` when the repository is no longer the state the unit was decided on, or any
 * row of `unit` is not at the version it expects. The first is Q16 for what a unit read but does
 * not write: a release of a child decided before its parent index existed must not commit after
 * the index was pushed. A commit replaces the repository's maps, so a state `load` handed out
 * is current exactly while its maps are the repository's. A basis whose maps this store did not
 * make (the service's empty state for an invalid name) is not known, and only the rows are guarded:
 * as in the SQL stores, which compare a head version and report it under the same check.
 */
function checkGuards(r: Repo, unit: UnitOfWork, ownMaps: WeakSet<object>): void {
  const basis = unit.basis;
  const handedOut = basis !== undefined && ownMaps.has(basis.records) && ownMaps.has(basis.tags);
  if (handedOut && (basis.records !== r.records || basis.tags !== r.tags)) {
    throw new TrustError('ERR_CONFLICT', `repository ${unit.repository} changed since the unit was decided`, { check: 'record version' });
  }
  for (const w of unit.records) {
    const cur = r.records.get(w.record.digest)?.version ?? 0;
    if (cur !== w.expectedVersion || w.record.repository !== unit.repository) {
      throw new TrustError('ERR_CONFLICT', `record ${w.record.digest} changed concurrently`, {
        check: 'record version',
        expected: w.expectedVersion,
        actual: cur,
      });
    }
  }
  for (const w of unit.tags) {
    const cur = r.tags.get(w.binding.tag)?.version ?? 0;
    if (cur !== w.expectedVersion) {
      throw new TrustError('ERR_CONFLICT', `tag ${w.binding.tag} changed concurrently`, {
        check: 'tag version',
        expected: w.expectedVersion,
        actual: cur,
      });
    }
  }
}

const NO_RECORDS: RecordMap = PersistentMap.from([]);
const NO_TAGS: TagMap = PersistentMap.from([]);

/**
 * The in-memory store, plus a helper to inspect every event ever committed.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from 'trustgate/quarantine';
 * const store: MemoryStore = createMemoryStore();
 * (await store.allEvents()).length; // 0
 * ```
 */
export interface MemoryStore extends QuarantineStore {
  /** Every committed event in commit order, delivered or not. */
  allEvents(): Promise<readonly OutboxEntry[]>;
}

/**
 * Creates an empty in-memory store.
 *
 * @example
 * ```ts
 * import { createMemoryStore, createQuarantineService } from 'trustgate/quarantine';
 * const q = createQuarantineService({ store: createMemoryStore(), config: { scanners: ['trivy'] } });
 * ```
 */
export function createMemoryStore(): MemoryStore {
  const repos = new Map<string, Repo>();
  const outbox: { entry: OutboxEntry; delivered: boolean }[] = [];
  const audit: AuditEntry[] = [];
  let policy: StoredPolicy | undefined;
  /**
   * The maps this store has made (a state `load` hands out holds two of them): a unit's basis is
   * checked only if its maps are. Kept per commit, not per load, so views pay nothing for it.
   */
  const ownMaps = new WeakSet<object>([NO_RECORDS, NO_TAGS]);
  const repo = (name: string): Repo => {
    let r = repos.get(name);
    if (r === undefined) {
      r = { records: NO_RECORDS, tags: NO_TAGS };
      repos.set(name, r);
    }
    return r;
  };

  return {
    async load(repository) {
      const r = repos.get(repository);
      const state: RepositoryState = { repository, records: r?.records ?? NO_RECORDS, tags: r?.tags ?? NO_TAGS };
      return state;
    },
    async repositories() {
      return [...repos.entries()].filter(([, r]) => r.records.size > 0).map(([k]) => k).sort();
    },
    async commit(unit: UnitOfWork) {
      // Check every guard before writing anything: all or nothing, with no await in between.
      const r = repo(unit.repository);
      checkGuards(r, unit, ownMaps);
      // Only a unit that writes rows replaces the maps: an audit-only unit (a rejection) leaves
      // the state as it was, so it does not refuse the units decided on it.
      if (unit.records.length > 0) ownMaps.add((r.records = updateRecords(r.records, new Map(unit.records.map((w): [string, DigestRecord] => [w.record.digest, frozenCopy(w.record)])))));
      if (unit.tags.length > 0) ownMaps.add((r.tags = updateTags(r.tags, new Map(unit.tags.map((w): [string, TagBinding] => [w.binding.tag, frozenCopy(w.binding)])))));
      for (const e of unit.events) outbox.push({ entry: { position: outbox.length + 1, event: structuredClone(e) }, delivered: false });
      for (const a of unit.audit) audit.push({ ...structuredClone(a), seq: audit.length + 1 });
    },
    async readAudit(filter) {
      return audit
        .filter((a) => (filter?.repository === undefined || a.repository === filter.repository) && (filter?.digest === undefined || a.digest === filter.digest))
        .map((a) => structuredClone(a));
    },
    async pendingEvents(limit = 100) {
      return outbox.filter((o) => !o.delivered).slice(0, limit).map((o) => structuredClone(o.entry));
    },
    async acknowledgeEvents(positions) {
      const set = new Set(positions);
      for (const o of outbox) if (set.has(o.entry.position)) o.delivered = true;
    },
    async allEvents() {
      return outbox.map((o) => structuredClone(o.entry));
    },
    async loadPolicy() {
      return policy;
    },
    async commitPolicy(write) {
      if (write.row !== undefined) {
        const cur = policy?.revision ?? 0;
        if (cur !== write.expectedRevision) {
          throw new TrustError('ERR_CONFLICT', 'policy changed concurrently', { check: 'policy revision', expected: write.expectedRevision, actual: cur });
        }
        policy = frozenCopy(write.row);
      }
      for (const a of write.audit) audit.push({ ...structuredClone(a), seq: audit.length + 1 });
    },
  };
}
