/**
 * The stored rows — a digest's record and a tag's binding — as zod schemas, and the revive step
 * that turns a row read from a store back into a value the core may trust (quarantine.md §5 Q4).
 * The record and binding types are derived from these schemas (types.ts), so the shape is
 * declared once.
 *
 * @module
 */
import { z } from 'zod';
import { TrustError } from '../errors.js';
import { PersistentMap } from './pmap.js';
import { deepFreeze } from './transitions.js';
import { digestSchema, findingSchema, repositorySchema, requestInfoSchema, summarize, tagSchema, time } from './schemas.js';
import { QUARANTINE_STATES, SCANNER_RESULTS } from './types.js';
import type { DigestRecord, QuarantineState, RepositoryState, TagBinding } from './types.js';

const NON_VISIBLE_STATES = ['Quarantined', 'Failed', 'Unresolved'] as const;

/** One scanner's verdict as stored on a record (current generation only). */
export const storedVerdictSchema = z.strictObject({
  scannerId: z.string(),
  idempotencyKey: z.string(),
  result: z.enum(SCANNER_RESULTS),
  /** The result after policy evaluation (findings mode may turn a scanner's `fail` into `pass`). */
  outcome: z.enum(['pass', 'fail', 'unresolved']),
  findings: z.array(findingSchema),
  /** Earliest expiry of a waiver this outcome depends on. */
  validUntil: time.optional(),
  at: time,
  link: z.string().optional(),
});

/** The answer to a verdict; a duplicate `(scannerId, idempotencyKey)` returns the stored one (Q14). */
export const verdictResponseSchema = z.strictObject({
  state: z.enum(QUARANTINE_STATES).catch('Quarantined'),
  generation: z.int().positive(),
  /** The quorum decision after this verdict; `final` means the generation was already decided. */
  decision: z.enum(['pass', 'fail', 'unresolved', 'pending', 'final']),
  duplicate: z.boolean(),
});

/** An idempotency entry: the first response to `(scannerId, idempotencyKey)`. */
export const idempotencyEntrySchema = z.strictObject({
  scannerId: z.string(),
  idempotencyKey: z.string(),
  fingerprint: z.string(),
  response: verdictResponseSchema,
});

/** A manual release laid over a non-visible state. */
export const releaseInfoSchema = z.strictObject({
  actor: z.string(),
  reason: z.string(),
  expiresAt: time,
  /** The state the digest falls back to when the release lapses; scan events keep updating it. */
  previous: z.enum(NON_VISIBLE_STATES).catch('Quarantined'),
  at: time,
});

/** The persisted quarantine record of one `(repository, digest)`: one SQL row. */
export const recordSchema = z.object({
  repository: repositorySchema,
  digest: digestSchema,
  // Q4: a stored state string that does not parse loads as Quarantined (non-visible); a state
  // that is not a string at all is a corrupt row (issue 12.6: `["Passed"]` indexed the table as 'Passed').
  state: z.union([z.enum(QUARANTINE_STATES), z.string().transform((): QuarantineState => 'Quarantined')]),
  /**
   * Compare-and-set version: the number of accepted commands that changed this record or bound a
   * tag to it (a binding depends on the record's state, so it must conflict with a change of it).
   */
  version: z.int().nonnegative(),
  /** Sequence number of the last event emitted for this digest (Q21). */
  sequence: z.int().nonnegative(),
  /** Current scan generation; never decreases (Q15). */
  generation: z.int().positive(),
  /** True while the current generation awaits a decision. */
  scanOpen: z.boolean(),
  deadline: time.optional(),
  /** Retries used by the current scan. */
  retries: z.int().nonnegative(),
  /** Generation of the decision in force, if any. */
  verdictGeneration: z.int().positive().optional(),
  unresolvedReason: z.enum(['timeout', 'unsupported', 'error', 'quorum']).optional(),
  release: releaseInfoSchema.optional(),
  /** Verdicts of the current generation (one per scanner). */
  verdicts: z.array(storedVerdictSchema),
  /** Findings of the decision in force. */
  findings: z.array(findingSchema),
  /** A `Passed` that rests on waivers is re-evaluated at this time (Q18). */
  validUntil: time.optional(),
  responses: z.array(idempotencyEntrySchema),
  kind: z.enum(['image', 'index']),
  children: z.array(digestSchema),
  subject: digestSchema.optional(),
  mediaType: z.string().optional(),
  size: z.int().nonnegative().optional(),
  /** The first principal that pushed this manifest. */
  pusher: z.string(),
  /** Every principal that pushed it, first pusher first (separation of duties, Q19). */
  pushers: z.array(z.string()).default([]),
  pushedAt: time,
  /** The HTTP request of the push that created (or restored) the record: the `request` of its ACR payloads. */
  request: requestInfoSchema.optional(),
  /** Deleted manifests keep their verdict so that a re-push cannot launder it (Q10). */
  deleted: z.boolean(),
  policyVersion: z.string(),
});

/** One side of a tag binding: the digest and the per-tag push number that created it. */
export const bindingSchema = z.strictObject({ digest: digestSchema, push: z.int().positive() });

/**
 * A tag's live binding (what ordinary users resolve) and pending binding (newest push, awaiting
 * visibility). One SQL row; never deleted, so its version keeps growing.
 */
export const tagBindingSchema = z.strictObject({
  repository: repositorySchema,
  tag: tagSchema,
  version: z.int().nonnegative(),
  live: bindingSchema.optional(),
  pending: bindingSchema.optional(),
  /** Number of pushes of this tag so far. */
  pushes: z.int().nonnegative(),
});

/**
 * Turns a stored row (e.g. a JSON column) back into a {@link DigestRecord}. An unknown `state`
 * string loads as `Quarantined` so that corrupted data can never make a digest visible (Q4).
 *
 * @throws {TrustError} `ERR_STORE_CORRUPT` when the row is not a record; `path` names the row.
 * @example
 * ```ts
 * import { reviveRecord } from 'trustgate/quarantine';
 * const rec = reviveRecord(JSON.parse(row.data));
 * ```
 */
export function reviveRecord(raw: unknown): DigestRecord {
  const r = recordSchema.safeParse(raw);
  if (!r.success) throw corrupt('record', rowName(raw, 'digest', '@'), r.error);
  const d = r.data;
  const state = d.state === 'Released' && d.release === undefined ? 'Quarantined' : d.state;
  return {
    ...d,
    state,
    deadline: d.deadline,
    verdictGeneration: d.verdictGeneration,
    unresolvedReason: d.unresolvedReason,
    release: d.release,
    validUntil: d.validUntil,
    subject: d.subject,
    mediaType: d.mediaType,
    size: d.size,
    verdicts: d.verdicts.map((v) => ({ ...v, validUntil: v.validUntil, link: v.link })),
  };
}

/**
 * Turns a stored tag row back into a {@link TagBinding}.
 *
 * @throws {TrustError} `ERR_STORE_CORRUPT` when the row is not a tag binding; `path` names the row.
 * @example
 * ```ts
 * import { reviveTag } from 'trustgate/quarantine';
 * const b = reviveTag(JSON.parse(row.data));
 * ```
 */
export function reviveTag(raw: unknown): TagBinding {
  const r = tagBindingSchema.safeParse(raw);
  if (!r.success) throw corrupt('tag binding', rowName(raw, 'tag', ':'), r.error);
  return { ...r.data, live: r.data.live, pending: r.data.pending };
}

/** `repository@digest` or `repository:tag` of a raw row, as far as it can be read. */
function rowName(raw: unknown, key: 'digest' | 'tag', sep: string): string {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const part = (v: unknown): string => (typeof v === 'string' ? v.slice(0, 300) : '?');
  return `${part(o['repository'])}${sep}${part(o[key])}`;
}

function corrupt(kind: string, row: string, error: z.ZodError): TrustError {
  return new TrustError('ERR_STORE_CORRUPT', `stored ${kind} ${row} is corrupt: ${summarize(error)}`, {
    check: `stored ${kind}`,
    path: row,
    cause: error,
  });
}

/** Whether two plain data values are equal, ignoring properties whose value is `undefined`. */
function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Rows and maps already validated: frozen rows cannot change after their check (the memory store's are). */
const validRows = new WeakSet<object>();
/**
 * The last validated persistent map per kind and repository: a later map of the same lineage
 * (the next commit's) needs only its changed rows checked, so a load costs what changed, not the
 * repository size (issue #7).
 */
const lastValid = new Map<string, PersistentMap<string, object>>();
/**
 * The most lineages {@link lastValid} keeps, the least recently validated dropped first: without
 * a bound it held the last map of every repository a process ever loaded (past the replica
 * cache's own bound, a copy of the whole database). A dropped lineage costs one full check.
 */
const MAX_LINEAGES = 2048;

/** Sets `key` as the newest entry of `map`, dropping the oldest past {@link MAX_LINEAGES}. */
function setBounded<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_LINEAGES) map.delete(map.keys().next().value as string);
}

/** The key of one kind of row (records or tags, by its revive function) of one repository. */
const lineageOf = (revive: (raw: never) => unknown, repository: string): string => `${revive.name}\u0000${repository}`;

/** The keys of `rows` that may hold a row not validated yet. */
function keysToCheck<V extends object>(lineage: string, rows: ReadonlyMap<string, V>): Iterable<string> {
  const prev = lastValid.get(lineage);
  const changed = rows instanceof PersistentMap && prev !== undefined ? (rows as PersistentMap<string, V>).changedSince(prev as never) : undefined;
  return changed ?? rows.keys();
}

/** Revives each row of `rows` not validated yet; the map itself when no row needed a change. */
function reviveRows<V extends { readonly repository: string }>(
  repository: string,
  rows: ReadonlyMap<string, V>,
  revive: (raw: unknown) => V,
  key: (row: V) => string,
): ReadonlyMap<string, V> {
  if (validRows.has(rows)) return rows;
  const lineage = lineageOf(revive, repository);
  let changed: Map<string, V> | undefined;
  for (const k of keysToCheck(lineage, rows)) {
    const row = rows.get(k);
    if (row === undefined || validRows.has(row)) continue;
    const revived = revive(row);
    if (key(revived) !== k || revived.repository !== repository) {
      throw new TrustError('ERR_STORE_CORRUPT', `stored row ${repository}/${k} is filed under the wrong key`, { path: `${repository}/${k}` });
    }
    if (sameData(revived, row)) {
      if (Object.isFrozen(row)) validRows.add(row);
    } else {
      (changed ??= new Map(rows)).set(k, revived);
    }
  }
  // A persistent map never changes once built, so a validated one need not be read again.
  if (changed === undefined && rows instanceof PersistentMap) {
    validRows.add(rows);
    setBounded(lastValid, lineage, rows as PersistentMap<string, object>);
  } else if (changed === undefined && Object.isFrozen(rows)) {
    validRows.add(rows);
  }
  return changed ?? rows;
}

/**
 * The last state the service committed per repository, with the maps it held then: a store that
 * hands that very object back (the SQL stores' replica cache keeps it) gets it accepted without a
 * parse. A Map by name, bounded like {@link lastValid}: a WeakMap entry per commit cost the
 * in-memory path about 15% of its transitions.
 */
const committed = new Map<string, { readonly state: RepositoryState; readonly records: object; readonly tags: object }>();
/**
 * Records that `state`, the machine's result of a unit the store has just committed, needs no
 * check if a store hands this very object back: its rows were built by `step` from rows already
 * validated, not read from a store, so the check would only repeat a zod parse per written row on
 * every command. Costs one Map entry; the work is done by {@link reviveState} only when the
 * object does come back (the memory store hands out copies, which are checked as before).
 *
 * @internal
 */
export function noteCommitted(state: RepositoryState): void {
  setBounded(committed, state.repository, { state, records: state.records, tags: state.tags });
}

/** Accepts a state the service committed, handed back unchanged: its rows are frozen, then marked validated. */
function adoptCommitted(state: RepositoryState): boolean {
  const saved = committed.get(state.repository);
  if (saved?.state !== state || saved.records !== state.records || saved.tags !== state.tags) return false;
  committed.delete(state.repository);
  // Only persistent maps are adopted (they never change once built); anything else is checked.
  const records = adoptRows(state.repository, state.records, reviveRecord);
  return adoptRows(state.repository, state.tags, reviveTag) && records;
}

function adoptRows(repository: string, rows: ReadonlyMap<string, object>, revive: (raw: unknown) => object): boolean {
  if (validRows.has(rows)) return true;
  if (!(rows instanceof PersistentMap)) return false;
  const lineage = lineageOf(revive, repository);
  for (const k of keysToCheck(lineage, rows)) {
    const row = rows.get(k);
    if (row !== undefined && !validRows.has(row)) validRows.add(deepFreeze(row));
  }
  validRows.add(rows);
  setBounded(lastValid, lineage, rows as PersistentMap<string, object>);
  return true;
}

/**
 * Validates every row of a loaded repository before the core reads it (issue 12.6): a record or
 * binding that does not validate fails closed with `ERR_STORE_CORRUPT` naming the row, and a row
 * the revive step normalises (an unknown state string, Q4) is replaced by its revived form.
 *
 * @throws {TrustError} `ERR_STORE_CORRUPT` for the first row that does not validate.
 */
export function reviveState(state: RepositoryState): RepositoryState {
  if (adoptCommitted(state)) return state;
  const records = reviveRows(state.repository, state.records, reviveRecord, (r) => r.digest);
  const tags = reviveRows(state.repository, state.tags, reviveTag, (b) => b.tag);
  return records === state.records && tags === state.tags ? state : { repository: state.repository, records, tags };
}

/**
 * How many lineages the incremental check remembers (bounded by an internal limit).
 *
 * @internal For tests.
 */
export function rememberedLineages(): number {
  return lastValid.size;
}
