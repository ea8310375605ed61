/**
 * The SQL of each store operation, one small function each, over {@link SqlQueryable} so that the
 * same text runs on a PostgreSQL server (node-postgres) and on PGlite. JSON goes in as one text
 * parameter cast to jsonb and is taken apart in SQL, which keeps the statement count per
 * operation fixed however many rows it touches.
 *
 * @module
 */
import { TrustError } from '../../errors.js';
import type { OutboxEntry, PolicyWrite, RecordWrite, TagWrite, UnitOfWork } from '../../quarantine/store.js';
import type { StoredPolicy } from '../../quarantine/policy-commands.js';
import type { AuditEntry } from '../../quarantine/events.js';
import type { DigestRecord, RepositoryState, TagBinding } from '../../quarantine/types.js';
import type { SqlQueryable } from './driver.js';
import { PersistentMap } from '../../quarantine/pmap.js';
import { CONFLICT_SQLSTATE, HEAD_CONFLICT_SQLSTATE, POLICY_CONFLICT_SQLSTATE, POLICY_STALE_SQLSTATE } from './migrations.js';
import type { QuotedSchema } from './migrations.js';
import { reviveAudit, reviveEvent, revivePolicy } from './rows.js';

interface KeyedRow {
  readonly kind: 'r' | 't';
  readonly key: string;
  readonly version: number;
  readonly data: unknown;
}

/** A row whose version column disagrees with its JSON cannot be trusted for compare-and-set. */
function checkVersion(repository: string, row: KeyedRow): void {
  const v = typeof row.data === 'object' && row.data !== null ? (row.data as { version?: unknown }).version : undefined;
  if (v !== row.version) {
    const path = `${repository}${row.kind === 'r' ? '@' : ':'}${row.key}`;
    throw new TrustError('ERR_STORE_CORRUPT', `stored row ${path} has version column ${row.version} but data version ${String(v)}`, {
      check: 'stored version',
      path,
      expected: row.version,
    });
  }
}

/** A repository as one statement read it (one snapshot), with its head version (0: never written). */
export interface LoadedRepository {
  readonly state: RepositoryState;
  readonly head: number;
}

/**
 * Every record and tag binding of a repository and its head, in one statement (one snapshot). Rows
 * are raw (the service revives them) but frozen, in persistent maps, so that a revived copy is
 * recognised as such when a cache hands the same state out again.
 */
export async function loadRepository(db: SqlQueryable, s: QuotedSchema, repository: string): Promise<LoadedRepository> {
  const r = await db.query<KeyedRow | { kind: 'h'; version: number }>(
    `SELECT 'h' AS kind, '' AS key, version::float8 AS version, NULL::jsonb AS data FROM ${s}.heads WHERE repository = $1
     UNION ALL
     SELECT 'r', digest, version::float8, data FROM ${s}.records WHERE repository = $1
     UNION ALL
     SELECT 't', tag, version::float8, data FROM ${s}.tags WHERE repository = $1`,
    [repository],
  );
  const records: [string, DigestRecord][] = [];
  const tags: [string, TagBinding][] = [];
  let head = 0;
  for (const row of r.rows) {
    if (row.kind === 'h') {
      head = row.version;
      continue;
    }
    checkVersion(repository, row);
    if (row.kind === 'r') records.push([row.key, Object.freeze(row.data) as DigestRecord]);
    else tags.push([row.key, Object.freeze(row.data) as TagBinding]);
  }
  return { state: { repository, records: PersistentMap.from(records), tags: PersistentMap.from(tags) }, head };
}

/** The repository's head and the policy revision now (0 when absent), for a decision that wrote nothing. */
export async function currentHead(db: SqlQueryable, s: QuotedSchema, repository: string): Promise<{ head: number; policy: number }> {
  const r = await db.query<{ head: number; policy: number }>(
    `SELECT coalesce((SELECT version FROM ${s}.heads WHERE repository = $1), 0)::float8 AS head,
            coalesce((SELECT revision FROM ${s}.policy), 0)::float8 AS policy`,
    [repository],
  );
  const row = r.rows[0];
  return { head: row?.head ?? 0, policy: row?.policy ?? 0 };
}

/** Up to `limit` repositories that have a head (ever changed), in no order. */
export async function listHeads(db: SqlQueryable, s: QuotedSchema, limit: number): Promise<readonly string[]> {
  const r = await db.query<{ repository: string }>(`SELECT repository FROM ${s}.heads LIMIT $1`, [limit]);
  return r.rows.map((row) => row.repository);
}

/** Repositories with at least one record, sorted. */
export async function listRepositories(db: SqlQueryable, s: QuotedSchema): Promise<readonly string[]> {
  const r = await db.query<{ repository: string }>(`SELECT repository FROM ${s}.records GROUP BY repository ORDER BY repository COLLATE "C"`);
  return r.rows.map((row) => row.repository);
}

/** A guarded row as `commit_unit` takes it: key, new version, expected version, JSON. */
interface GuardedRow {
  readonly key: string;
  readonly version: number;
  readonly expected: number;
  readonly data: unknown;
}

const recordRow = (w: RecordWrite): GuardedRow => ({ key: w.record.digest, version: w.record.version, expected: w.expectedVersion, data: w.record });
const tagRow = (w: TagWrite): GuardedRow => ({ key: w.binding.tag, version: w.binding.version, expected: w.expectedVersion, data: w.binding });

/**
 * A unit of work as one `commit_unit` call (migration 4): one statement, so one transaction and
 * one round trip. `basis` is the repository head the unit was decided on (-1: unknown, then only
 * the written rows are guarded); `policyRevision` the policy row's revision it was decided under
 * (-1: not checked). A lost compare-and-set raises a SQLSTATE that {@link conflictOf} names, and
 * the statement's transaction rolls back whole. Resolves to the repository's head after the unit.
 */
export async function commitUnit(db: SqlQueryable, s: QuotedSchema, unit: UnitOfWork, basis: number, policyRevision: number): Promise<number> {
  for (const w of unit.records) {
    if (w.record.repository !== unit.repository) {
      throw new TrustError('ERR_CONFLICT', `record ${w.record.digest} is not in ${unit.repository}`, { check: 'record version' });
    }
  }
  const split = <W extends { readonly expectedVersion: number }>(ws: readonly W[], row: (w: W) => GuardedRow) => [
    JSON.stringify(ws.filter((w) => w.expectedVersion === 0).map(row)),
    JSON.stringify(ws.filter((w) => w.expectedVersion !== 0).map(row)),
  ];
  const r = await db.query<{ h: number }>(
    `SELECT ${s}.commit_unit($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb, $9::jsonb)::float8 AS h`,
    [unit.repository, basis, policyRevision, ...split(unit.records, recordRow), ...split(unit.tags, tagRow), JSON.stringify(unit.events), JSON.stringify(unit.audit)],
  );
  return r.rows[0]?.h ?? 0;
}

/** The policy row, or undefined before the first policy command. */
export async function loadPolicy(db: SqlQueryable, s: QuotedSchema): Promise<StoredPolicy | undefined> {
  const r = await db.query<{ revision: number; data: unknown }>(`SELECT revision::float8 AS revision, data FROM ${s}.policy`);
  const row = r.rows[0];
  return row === undefined ? undefined : revivePolicy(row.data, row.revision);
}

/** A policy command's row (compare-and-set on its revision) and audit record, in one statement. */
export async function commitPolicy(db: SqlQueryable, s: QuotedSchema, write: PolicyWrite): Promise<void> {
  await db.query(`SELECT ${s}.commit_policy($1::jsonb, $2, $3, $4::jsonb)`, [
    write.row === undefined ? null : JSON.stringify(write.row),
    write.row?.revision ?? 0,
    write.expectedRevision,
    JSON.stringify(write.audit),
  ]);
}

/** The ERR_CONFLICT a `commit_unit` or `commit_policy` SQLSTATE stands for (checks named as the memory store names them), if any. */
export function conflictOf(sqlstate: string, message: string, cause: unknown): TrustError | undefined {
  // A changed repository head is named as a record conflict: the service (and the Q16 check)
  // treat both alike, as a lost race to retry on a fresh read.
  const checks: Record<string, string> = {
    [CONFLICT_SQLSTATE.record]: 'record version',
    [HEAD_CONFLICT_SQLSTATE]: 'record version',
    [CONFLICT_SQLSTATE.tag]: 'tag version',
    [POLICY_CONFLICT_SQLSTATE]: 'policy revision',
    [POLICY_STALE_SQLSTATE]: 'policy revision',
  };
  const check = checks[sqlstate];
  return check === undefined ? undefined : new TrustError('ERR_CONFLICT', `changed concurrently: ${message}`, { check, cause });
}

/** The audit log in seq order, optionally for one repository and/or digest. */
export async function readAudit(db: SqlQueryable, s: QuotedSchema, filter?: { readonly repository?: string; readonly digest?: string }): Promise<readonly AuditEntry[]> {
  const r = await db.query<{ seq: number; entry: unknown }>(
    `SELECT seq::float8 AS seq, entry FROM ${s}.audit
     WHERE ($1::text IS NULL OR repository = $1) AND ($2::text IS NULL OR digest = $2) ORDER BY seq`,
    [filter?.repository ?? null, filter?.digest ?? null],
  );
  return r.rows.map((row) => reviveAudit(row.entry, row.seq));
}

/** Undelivered events in position order, at most `limit`. */
export async function pendingEvents(db: SqlQueryable, s: QuotedSchema, limit: number): Promise<readonly OutboxEntry[]> {
  const r = await db.query<{ position: number; event: unknown }>(
    `SELECT position::float8 AS position, event FROM ${s}.outbox WHERE delivered_at IS NULL ORDER BY position LIMIT $1`,
    [limit],
  );
  return r.rows.map((row) => ({ position: row.position, event: reviveEvent(row.event, row.position) }));
}

/**
 * Claims up to `limit` undelivered events for this transaction, skipping rows another relay has
 * claimed (`FOR UPDATE SKIP LOCKED`): two relays never hold the same row at once.
 */
export async function claimEvents(tx: SqlQueryable, s: QuotedSchema, limit: number): Promise<readonly OutboxEntry[]> {
  const r = await tx.query<{ position: number; event: unknown }>(
    `SELECT position::float8 AS position, event FROM ${s}.outbox WHERE delivered_at IS NULL ORDER BY position LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return r.rows.map((row) => ({ position: row.position, event: reviveEvent(row.event, row.position) }));
}

/** Marks each named row delivered (per row; there is no high-water mark). */
export async function acknowledge(db: SqlQueryable, s: QuotedSchema, positions: readonly number[]): Promise<void> {
  if (positions.length === 0) return;
  await db.query(
    `UPDATE ${s}.outbox SET delivered_at = now()
     WHERE delivered_at IS NULL AND position IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint)`,
    [JSON.stringify(positions)],
  );
}
