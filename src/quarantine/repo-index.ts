/**
 * Indexes over a repository's records and tags, carried from one persistent map to the next so
 * that `step` never has to scan the repository (issue #7):
 *
 * - `refs`: digest → digests of records that name it as a child or a subject (who may lose or gain
 *   visibility when it changes);
 * - `dueLowerBound`: no record has a deadline, release expiry or waiver re-evaluation before it;
 * - `byDigest` (tags): digest → tags whose live or pending binding names it.
 *
 * Indexes are built once per map on first use (O(n)) and then updated with each change (O(touched)).
 *
 * @module
 */
import { PersistentMap } from './pmap.js';
import type { DigestRecord, TagBinding } from './types.js';

/** Records of a repository as a persistent map. */
export type RecordMap = PersistentMap<string, DigestRecord>;
/** Tag bindings of a repository as a persistent map. */
export type TagMap = PersistentMap<string, TagBinding>;
/** A reverse index: a digest → names (digests or tags) that refer to it. */
export type RefIndex = PersistentMap<string, readonly string[]>;

interface RecordIndex {
  readonly refs: RefIndex;
  readonly dueLowerBound: number;
  /** How many records carry each policy version (so a step knows without a scan whether any is stale). */
  readonly versions: ReadonlyMap<string, number>;
}

const RECORD_INDEX = Symbol('record index');
const TAG_INDEX = Symbol('tag index');
const recordIndexes = {
  get: (m: RecordMap): RecordIndex | undefined => m.annex<RecordIndex>(RECORD_INDEX),
  set: (m: RecordMap, ix: RecordIndex): void => m.setAnnex(RECORD_INDEX, ix),
};
/** A tag index not built yet: the parent's (built) index plus the changes since. */
interface TagIndexDelta {
  readonly parent: TagMap;
  readonly changes: ReadonlyMap<string, TagBinding>;
}
const tagIndexes = {
  get: (m: TagMap): RefIndex | undefined => {
    const a = m.annex<RefIndex | TagIndexDelta>(TAG_INDEX);
    if (a === undefined || a instanceof PersistentMap) return a;
    // Built on first use: most derived versions (a rejected retry, a result nobody steps from) never need it.
    const ix = reindexTags(a.parent, a.changes);
    m.setAnnex(TAG_INDEX, ix);
    return ix;
  },
  set: (m: TagMap, ix: RefIndex | TagIndexDelta): void => m.setAnnex(TAG_INDEX, ix),
};

/** What is due next on a record: its scan deadline, release expiry or waiver re-evaluation. */
export function nextDue(rec: DigestRecord): { at: number; kind: 'deadline' | 'release' | 'waiver' } | undefined {
  const c: { at: number; kind: 'deadline' | 'release' | 'waiver' }[] = [];
  if (rec.scanOpen && rec.deadline !== undefined) c.push({ at: rec.deadline, kind: 'deadline' });
  if (rec.state === 'Released' && rec.release !== undefined) c.push({ at: rec.release.expiresAt, kind: 'release' });
  if (rec.state === 'Passed' && rec.validUntil !== undefined) c.push({ at: rec.validUntil, kind: 'waiver' });
  c.sort((a, b) => a.at - b.at);
  return c[0];
}

/** When {@link nextDue} falls, or `Infinity`. */
export function dueAt(rec: DigestRecord): number {
  return nextDue(rec)?.at ?? Infinity;
}

/** The persistent form of a records map: itself if it already is one, else a copy. */
export function recordMap(m: ReadonlyMap<string, DigestRecord>): RecordMap {
  return m instanceof PersistentMap ? (m as RecordMap) : PersistentMap.from(m);
}

/** The persistent form of a tags map: itself if it already is one, else a copy. */
export function tagMap(m: ReadonlyMap<string, TagBinding>): TagMap {
  return m instanceof PersistentMap ? (m as TagMap) : PersistentMap.from(m);
}

function refsOf(rec: DigestRecord): string[] {
  const out = [...new Set(rec.children)];
  if (rec.subject !== undefined && !out.includes(rec.subject)) out.push(rec.subject);
  return out;
}

function tagRefs(b: TagBinding | undefined): string[] {
  const out: string[] = [];
  if (b?.live !== undefined) out.push(b.live.digest);
  if (b?.pending !== undefined && b.pending.digest !== b.live?.digest) out.push(b.pending.digest);
  return out;
}

function build<V extends object>(m: PersistentMap<string, V>, refs: (v: V) => readonly string[]): RefIndex {
  const idx = new Map<string, string[]>();
  for (const [name, v] of m) {
    for (const target of refs(v)) {
      const list = idx.get(target);
      if (list === undefined) idx.set(target, [name]);
      else list.push(name);
    }
  }
  return PersistentMap.from(idx);
}

/** Applies the reference changes of `name` (old targets → new targets) to a pending index update. */
function reindex(idx: RefIndex, changes: Map<string, readonly string[]>, name: string, before: readonly string[], after: readonly string[]): void {
  for (const t of before) {
    if (after.includes(t)) continue;
    const cur = changes.get(t) ?? idx.get(t) ?? [];
    changes.set(
      t,
      cur.filter((x) => x !== name),
    );
  }
  for (const t of after) {
    if (before.includes(t)) continue;
    const cur = changes.get(t) ?? idx.get(t) ?? [];
    if (!cur.includes(name)) changes.set(t, [...cur, name]);
  }
}

/** The record index of `m` (built on first use). */
export function recordIndex(m: RecordMap): RecordIndex {
  let ix = recordIndexes.get(m);
  if (ix === undefined) {
    let lb = Infinity;
    const versions = new Map<string, number>();
    for (const rec of m.values()) {
      lb = Math.min(lb, dueAt(rec));
      versions.set(rec.policyVersion, (versions.get(rec.policyVersion) ?? 0) + 1);
    }
    ix = { refs: build(m, refsOf), dueLowerBound: lb, versions };
    recordIndexes.set(m, ix);
  }
  return ix;
}

/**
 * `base` with `changes`, its index (when `base` has one) carried over. `index` overrides the
 * index of `base` used for the carry-over (e.g. with a tighter due bound that holds for every
 * record of `base` not in `changes`).
 */
export function updateRecords(base: RecordMap, changes: ReadonlyMap<string, DigestRecord>, index?: RecordIndex): RecordMap {
  const next = base.update(changes);
  const ix = index ?? recordIndexes.get(base);
  if (next === base) {
    if (index !== undefined) recordIndexes.set(base, index);
    return next;
  }
  if (ix === undefined) return next;
  let lb = ix.dueLowerBound;
  const refChanges = new Map<string, readonly string[]>();
  let versions: Map<string, number> | undefined;
  for (const [digest, rec] of changes) {
    lb = Math.min(lb, dueAt(rec));
    const old = base.get(digest);
    if (old?.policyVersion !== rec.policyVersion) {
      versions ??= new Map(ix.versions);
      if (old !== undefined) versions.set(old.policyVersion, (versions.get(old.policyVersion) ?? 1) - 1);
      versions.set(rec.policyVersion, (versions.get(rec.policyVersion) ?? 0) + 1);
    }
    if (old === undefined || old.children !== rec.children || old.subject !== rec.subject) {
      reindex(ix.refs, refChanges, digest, old === undefined ? [] : refsOf(old), refsOf(rec));
    }
  }
  recordIndexes.set(next, { refs: ix.refs.update(refChanges), dueLowerBound: lb, versions: versions ?? ix.versions });
  return next;
}

/** Whether some record of `m` was last judged under a policy version other than `version`. */
export function hasStalePolicy(m: RecordMap, version: string): boolean {
  for (const [v, n] of recordIndex(m).versions) if (n > 0 && v !== version) return true;
  return false;
}

/** The tag index of `m` (built on first use). */
function tagIndex(m: TagMap): RefIndex {
  let ix = tagIndexes.get(m);
  if (ix === undefined) {
    ix = build(m, tagRefs);
    tagIndexes.set(m, ix);
  }
  return ix;
}

/** `base` with `changes`, its tag index (when `base` has one) carried over. */
export function updateTags(base: TagMap, changes: ReadonlyMap<string, TagBinding>): TagMap {
  const next = base.update(changes);
  if (next === base || base.annex(TAG_INDEX) === undefined) return next;
  // Resolve the parent now, so that a chain of unbuilt indexes is never longer than one.
  tagIndexes.get(base);
  tagIndexes.set(next, { parent: base, changes });
  return next;
}

function reindexTags(base: TagMap, changes: ReadonlyMap<string, TagBinding>): RefIndex {
  const ix = tagIndex(base);
  const refChanges = new Map<string, readonly string[]>();
  for (const [name, b] of changes) reindex(ix, refChanges, name, tagRefs(base.get(name)), tagRefs(b));
  return ix.update(refChanges);
}

/** Tags whose live or pending binding names `digest` in `m` (a superset is fine for callers). */
export function tagsNaming(m: TagMap, digest: string): readonly string[] {
  return tagIndex(m).get(digest) ?? [];
}
