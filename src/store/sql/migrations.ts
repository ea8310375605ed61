/**
 * Versioned schema migrations, run on start inside one transaction under an advisory lock (so
 * replicas starting together apply each migration once). `schema_version` holds one row per
 * applied migration; a database whose newest version is beyond {@link SCHEMA_VERSION} was migrated
 * by newer code, and this code refuses to touch it (`ERR_STORE_SCHEMA`).
 *
 * @module
 */
import { TrustError } from '../../errors.js';
import type { SqlDriver, SqlQueryable } from './driver.js';

/** A schema name as it appears in SQL: validated, then double-quoted. */
export type QuotedSchema = string & { readonly __quoted: unique symbol };

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Validates and quotes a schema name.
 * @throws {TrustError} `ERR_INVALID_ARGUMENT` when it is not a lower-case SQL identifier.
 */
export function quoteSchema(name: string): QuotedSchema {
  if (typeof name !== 'string' || !SCHEMA_RE.test(name)) {
    throw new TrustError('ERR_INVALID_ARGUMENT', `schema must match ${SCHEMA_RE.source}`, { actual: String(name).slice(0, 80) });
  }
  return `"${name}"` as QuotedSchema;
}

/** Migration n (1-based) is `MIGRATIONS[n - 1]`: statements run in order. Never edit a released one; append. */
const MIGRATIONS: readonly ((s: QuotedSchema) => readonly string[])[] = [
  (s) => [
    `CREATE TABLE ${s}.records (
       repository text NOT NULL, digest text NOT NULL, version bigint NOT NULL CHECK (version > 0), data jsonb NOT NULL,
       PRIMARY KEY (repository, digest))`,
    `CREATE TABLE ${s}.tags (
       repository text NOT NULL, tag text NOT NULL, version bigint NOT NULL CHECK (version > 0), data jsonb NOT NULL,
       PRIMARY KEY (repository, tag))`,
    // One row: the last outbox position and audit seq handed out. Updating it takes a row lock held
    // to COMMIT, so positions and seqs are assigned in commit order and without gaps.
    `CREATE TABLE ${s}.log_head (
       only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), outbox_position bigint NOT NULL, audit_seq bigint NOT NULL)`,
    `INSERT INTO ${s}.log_head (outbox_position, audit_seq) VALUES (0, 0)`,
    `CREATE TABLE ${s}.outbox (
       position bigint PRIMARY KEY, repository text NOT NULL, digest text NOT NULL, event jsonb NOT NULL,
       delivered_at timestamptz)`,
    `CREATE INDEX outbox_pending ON ${s}.outbox (position) WHERE delivered_at IS NULL`,
    `CREATE TABLE ${s}.audit (seq bigint PRIMARY KEY, repository text, digest text, entry jsonb NOT NULL)`,
    `CREATE INDEX audit_by_digest ON ${s}.audit (repository, digest, seq)`,
    // Q22 in the database itself: no UPDATE, DELETE or TRUNCATE of the audit, whoever asks.
    `CREATE FUNCTION ${s}.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN RAISE EXCEPTION 'quarantine audit is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege'; END $$`,
    `CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON ${s}.audit FOR EACH ROW EXECUTE FUNCTION ${s}.audit_append_only()`,
    `CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON ${s}.audit FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_append_only()`,
  ],
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The newest applied version (0 for a fresh schema). */
async function currentVersion(tx: SqlQueryable, s: QuotedSchema): Promise<number> {
  const r = await tx.query<{ v: number | null }>(`SELECT max(version)::float8 AS v FROM ${s}.schema_version`);
  return r.rows[0]?.v ?? 0;
}

/**
 * Brings `schema` up to {@link SCHEMA_VERSION}.
 * @throws {TrustError} `ERR_STORE_SCHEMA` when the database is at a newer version than this code.
 */
export async function migrate(db: SqlDriver, schemaName: string, target: number = SCHEMA_VERSION): Promise<void> {
  const s = quoteSchema(schemaName);
  await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`trustgate:migrate:${schemaName}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const found = await currentVersion(tx, s);
    if (found > SCHEMA_VERSION) {
      throw new TrustError('ERR_STORE_SCHEMA', `database schema ${schemaName} is at version ${found}, newer than this code's ${SCHEMA_VERSION}; upgrade trustgate`, {
        check: 'schema version',
        expected: SCHEMA_VERSION,
        actual: found,
      });
    }
    for (let v = found + 1; v <= target; v++) {
      for (const statement of (MIGRATIONS[v - 1] as (s: QuotedSchema) => readonly string[])(s)) await tx.query(statement);
      await tx.query(`INSERT INTO ${s}.schema_version (version) VALUES ($1)`, [v]);
    }
  });
}
