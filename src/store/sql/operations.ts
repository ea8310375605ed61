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
import { CONFLICT_SQLSTATE, POLICY_CONFLICT_SQLSTATE } from './migrations.js';
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

/** Every record and tag binding of a repository, in one statement (one snapshot). Rows are raw: the service revives them. */
export async function loadRepository(db: SqlQueryable, s: QuotedSchema, repository: string): Promise<RepositoryState> {
  const r = await db.query<KeyedRow>(
    `SELECT 'r' AS kind, digest AS key, version::float8 AS version, data FROM ${s}.records WHERE repository = $1
     UNION ALL
     SELECT 't', tag, version::float8, data FROM ${s}.tags WHERE repository = $1`,
    [repository],
  );
  const records = new Map<string, DigestRecord>();
  const tags = new Map<string, TagBinding>();
  for (const row of r.rows) {
    checkVersion(repository, row);
    if (row.kind === 'r') records.set(row.key, row.data as DigestRecord);
    else tags.set(row.key, row.data as TagBinding);
  }
  return { repository, records, tags };
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
 * A unit of work as one `commit_unit` call (migration 2): one statement, so one transaction and
 * one round trip. A lost compare-and-set raises a SQLSTATE that {@link conflictOf} names, and the
 * statement's transaction rolls back whole.
 */
export async function commitUnit(db: SqlQueryable, s: QuotedSchema, unit: UnitOfWork): Promise<void> {
  for (const w of unit.records) {
    if (w.record.repository !== unit.repository) {
      throw new TrustError('ERR_CONFLICT', `record ${w.record.digest} is not in ${unit.repository}`, { check: 'record version' });
    }
  }
  await db.query(`SELECT ${s}.commit_unit($1, $2::jsonb, $3::jsonb, $4::jsonb, $5::jsonb)`, [
    unit.repository,
    JSON.stringify(unit.records.map(recordRow)),
    JSON.stringify(unit.tags.map(tagRow)),
    JSON.stringify(unit.events),
    JSON.stringify(unit.audit),
  ]);
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
  const check =
    sqlstate === CONFLICT_SQLSTATE.record ? 'record version' : sqlstate === CONFLICT_SQLSTATE.tag ? 'tag version' : sqlstate === POLICY_CONFLICT_SQLSTATE ? 'policy revision' : undefined;
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
