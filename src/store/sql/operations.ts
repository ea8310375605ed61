/**
 * The SQL of each store operation, one small function each, over {@link SqlQueryable} so that the
 * same text runs on a PostgreSQL server (node-postgres) and on PGlite. JSON goes in as one text
 * parameter cast to jsonb and is taken apart with `jsonb_to_recordset`, which keeps the statement
 * count per unit of work fixed however many rows it writes.
 *
 * @module
 */
import { TrustError } from '../../errors.js';
import type { OutboxEntry, RecordWrite, TagWrite, UnitOfWork } from '../../quarantine/store.js';
import type { AuditEntry } from '../../quarantine/events.js';
import type { DigestRecord, RepositoryState, TagBinding } from '../../quarantine/types.js';
import type { SqlQueryable } from './driver.js';
import type { QuotedSchema } from './migrations.js';
import { reviveAudit, reviveEvent } from './rows.js';

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

/** The rows one compare-and-set statement writes: key, new version, expected version, JSON. */
interface GuardedRow {
  readonly key: string;
  readonly version: number;
  readonly expected: number;
  readonly data: unknown;
}

/** Which table a guarded write goes to, and how its conflicts are named (as the memory store names them). */
interface Table {
  readonly name: 'records' | 'tags';
  readonly key: 'digest' | 'tag';
  readonly check: 'record version' | 'tag version';
  readonly noun: 'record' | 'tag';
}

const RECORDS: Table = { name: 'records', key: 'digest', check: 'record version', noun: 'record' };
const TAGS: Table = { name: 'tags', key: 'tag', check: 'tag version', noun: 'tag' };

function conflict(t: Table, rows: readonly GuardedRow[], written: number): TrustError {
  const keys = rows.map((r) => r.key).join(', ');
  return new TrustError('ERR_CONFLICT', `${t.noun} ${keys} changed concurrently`, {
    check: t.check,
    expected: rows.length,
    actual: written,
  });
}

/** `INSERT … ON CONFLICT DO NOTHING` for rows that must not exist yet (expectedVersion 0). */
async function insertNew(tx: SqlQueryable, s: QuotedSchema, t: Table, repository: string, rows: readonly GuardedRow[]): Promise<void> {
  if (rows.length === 0) return;
  const r = await tx.query(
    `INSERT INTO ${s}.${t.name} (repository, ${t.key}, version, data)
     SELECT $1, w.key, w.version, w.data FROM jsonb_to_recordset($2::jsonb) AS w(key text, version bigint, data jsonb)
     ON CONFLICT DO NOTHING`,
    [repository, JSON.stringify(rows)],
  );
  if (r.rowCount !== rows.length) throw conflict(t, rows, r.rowCount);
}

/** `UPDATE … WHERE version = expected` for rows that exist; every row must match. */
async function updateGuarded(tx: SqlQueryable, s: QuotedSchema, t: Table, repository: string, rows: readonly GuardedRow[]): Promise<void> {
  if (rows.length === 0) return;
  const r = await tx.query(
    `UPDATE ${s}.${t.name} AS cur SET version = w.version, data = w.data
     FROM jsonb_to_recordset($2::jsonb) AS w(key text, version bigint, expected bigint, data jsonb)
     WHERE cur.repository = $1 AND cur.${t.key} = w.key AND cur.version = w.expected`,
    [repository, JSON.stringify(rows)],
  );
  if (r.rowCount !== rows.length) throw conflict(t, rows, r.rowCount);
}

/** Inserts for new rows, then guarded updates; sorted by key so concurrent writers lock rows in one order. */
async function writeGuarded(tx: SqlQueryable, s: QuotedSchema, t: Table, repository: string, rows: readonly GuardedRow[]): Promise<void> {
  const sorted = [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  await insertNew(tx, s, t, repository, sorted.filter((r) => r.expected === 0));
  await updateGuarded(tx, s, t, repository, sorted.filter((r) => r.expected !== 0));
}

const recordRow = (w: RecordWrite): GuardedRow => ({ key: w.record.digest, version: w.record.version, expected: w.expectedVersion, data: w.record });
const tagRow = (w: TagWrite): GuardedRow => ({ key: w.binding.tag, version: w.binding.version, expected: w.expectedVersion, data: w.binding });

/**
 * Appends a unit's events and audit entries. The `log_head` row update hands out positions and
 * seqs and holds its lock until COMMIT, so they are gap-free and in commit order.
 */
async function appendLogs(tx: SqlQueryable, s: QuotedSchema, unit: UnitOfWork): Promise<void> {
  if (unit.events.length + unit.audit.length === 0) return;
  await tx.query(
    `WITH head AS (
       UPDATE ${s}.log_head SET outbox_position = outbox_position + $1, audit_seq = audit_seq + $2
       RETURNING outbox_position - $1 AS p0, audit_seq - $2 AS a0),
     ev AS (
       INSERT INTO ${s}.outbox (position, repository, digest, event)
       SELECT head.p0 + e.n, e.v->>'repository', e.v->>'digest', e.v FROM head, jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(v, n))
     INSERT INTO ${s}.audit (seq, repository, digest, entry)
     SELECT head.a0 + a.n, a.v->>'repository', a.v->>'digest', a.v FROM head, jsonb_array_elements($4::jsonb) WITH ORDINALITY AS a(v, n)`,
    [unit.events.length, unit.audit.length, JSON.stringify(unit.events), JSON.stringify(unit.audit)],
  );
}

/** A unit of work inside the caller's transaction; throws `ERR_CONFLICT` (the caller rolls back) on any lost compare-and-set. */
export async function commitUnit(tx: SqlQueryable, s: QuotedSchema, unit: UnitOfWork): Promise<void> {
  for (const w of unit.records) {
    if (w.record.repository !== unit.repository) {
      throw new TrustError('ERR_CONFLICT', `record ${w.record.digest} is not in ${unit.repository}`, { check: 'record version' });
    }
  }
  await writeGuarded(tx, s, RECORDS, unit.repository, unit.records.map(recordRow));
  await writeGuarded(tx, s, TAGS, unit.repository, unit.tags.map(tagRow));
  await appendLogs(tx, s, unit);
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
