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
const MIGRATIONS: ((s: QuotedSchema) => readonly string[])[] = [
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

/**
 * One table's compare-and-set inside `commit_unit`: inserts for rows with expected version 0
 * (`ON CONFLICT DO NOTHING`), guarded updates for the rest, each checked by its row count; a short
 * count raises `code`, which aborts (rolls back) the whole unit. Rows go in key order so that
 * concurrent writers lock them in one order.
 */
function casBlock(s: QuotedSchema, table: 'records' | 'tags', key: 'digest' | 'tag', code: string): string {
  const rows = `${table}_rows`;
  const cols = 'w(key text, version bigint, expected bigint, data jsonb)';
  return `
  want := (SELECT count(*) FROM jsonb_array_elements(${rows}) AS r WHERE (r->>'expected')::bigint = 0);
  IF want > 0 THEN
    INSERT INTO ${s}.${table} (repository, ${key}, version, data)
    SELECT repo, w.key, w.version, w.data FROM jsonb_to_recordset(${rows}) AS ${cols} WHERE w.expected = 0 ORDER BY w.key
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS got = ROW_COUNT;
    IF got <> want THEN RAISE EXCEPTION '${table}: % of % inserts found the row already there', want - got, want USING ERRCODE = '${code}'; END IF;
  END IF;
  want := jsonb_array_length(${rows}) - want;
  IF want > 0 THEN
    UPDATE ${s}.${table} AS cur SET version = w.version, data = w.data
    FROM (SELECT * FROM jsonb_to_recordset(${rows}) AS ${cols} WHERE w.expected <> 0 ORDER BY w.key) AS w
    WHERE cur.repository = repo AND cur.${key} = w.key AND cur.version = w.expected;
    GET DIAGNOSTICS got = ROW_COUNT;
    IF got <> want THEN RAISE EXCEPTION '${table}: % of % guarded updates found another version', want - got, want USING ERRCODE = '${code}'; END IF;
  END IF;`;
}

/** The LISTEN/NOTIFY channel `commit_unit` notifies, with the schema (quoted) as payload, when a unit adds events. */
export const NOTIFY_CHANNEL = 'trustgate_outbox';

/** A SQL string literal of a validated schema name (no quotes or backslashes can occur in it). */
const sqlString = (s: QuotedSchema): string => `'${s.replaceAll("'", "''")}'`;

/** SQLSTATEs `commit_unit` raises when a record or tag compare-and-set loses. */
export const CONFLICT_SQLSTATE = { record: 'TGC01', tag: 'TGC02' } as const;

MIGRATIONS.push(
  // The unit of work as one statement (one round trip, one transaction): CAS on records, then on
  // tags, then the log_head lock and the outbox and audit rows. Locks are always taken in that
  // order. Replaces three to five statements between BEGIN and COMMIT (see bench/STORE-RESULTS.md).
  (s) => [
    `CREATE FUNCTION ${s}.commit_unit(repo text, records_rows jsonb, tags_rows jsonb, ev jsonb, au jsonb) RETURNS void LANGUAGE plpgsql AS $$
     DECLARE want bigint; got bigint; p0 bigint; a0 bigint;
     BEGIN${casBlock(s, 'records', 'digest', CONFLICT_SQLSTATE.record)}${casBlock(s, 'tags', 'tag', CONFLICT_SQLSTATE.tag)}
       IF jsonb_array_length(ev) + jsonb_array_length(au) > 0 THEN
         UPDATE ${s}.log_head SET outbox_position = outbox_position + jsonb_array_length(ev), audit_seq = audit_seq + jsonb_array_length(au)
         RETURNING outbox_position - jsonb_array_length(ev), audit_seq - jsonb_array_length(au) INTO p0, a0;
         INSERT INTO ${s}.outbox (position, repository, digest, event)
         SELECT p0 + e.ord, e.v->>'repository', e.v->>'digest', e.v FROM jsonb_array_elements(ev) WITH ORDINALITY AS e(v, ord);
         INSERT INTO ${s}.audit (seq, repository, digest, entry)
         SELECT a0 + a.ord, a.v->>'repository', a.v->>'digest', a.v FROM jsonb_array_elements(au) WITH ORDINALITY AS a(v, ord);
         -- Delivered at COMMIT, and only then: a wake-up for relays, never the events themselves.
         IF jsonb_array_length(ev) > 0 THEN PERFORM pg_notify('${NOTIFY_CHANNEL}', ${sqlString(s)}); END IF;
       END IF;
     END $$`,
  ],
);

/** SQLSTATE `commit_policy` raises when the policy row's compare-and-set loses. */
export const POLICY_CONFLICT_SQLSTATE = 'TGC03';

MIGRATIONS.push(
  // The registry-wide policy row of the policy commands (setPolicy, addWaiver, revokeWaiver), with
  // its audit record in the same statement: compare-and-set on `revision` (0: no row yet), then
  // the audit row under the same log_head lock as commit_unit, so the audit stays gap-free.
  (s) => [
    `CREATE TABLE ${s}.policy (
       only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), revision bigint NOT NULL CHECK (revision > 0), data jsonb NOT NULL)`,
    `CREATE FUNCTION ${s}.commit_policy(row_data jsonb, new_revision bigint, expected bigint, au jsonb) RETURNS void LANGUAGE plpgsql AS $$
     DECLARE got bigint; a0 bigint;
     BEGIN
       IF row_data IS NOT NULL THEN
         IF expected = 0 THEN
           INSERT INTO ${s}.policy (revision, data) VALUES (new_revision, row_data) ON CONFLICT DO NOTHING;
         ELSE
           UPDATE ${s}.policy SET revision = new_revision, data = row_data WHERE revision = expected;
         END IF;
         GET DIAGNOSTICS got = ROW_COUNT;
         IF got <> 1 THEN RAISE EXCEPTION 'policy: revision % is no longer current', expected USING ERRCODE = '${POLICY_CONFLICT_SQLSTATE}'; END IF;
       END IF;
       IF jsonb_array_length(au) > 0 THEN
         UPDATE ${s}.log_head SET audit_seq = audit_seq + jsonb_array_length(au) RETURNING audit_seq - jsonb_array_length(au) INTO a0;
         INSERT INTO ${s}.audit (seq, repository, digest, entry)
         SELECT a0 + a.ord, a.v->>'repository', a.v->>'digest', a.v FROM jsonb_array_elements(au) WITH ORDINALITY AS a(v, ord);
       END IF;
     END $$`,
  ],
);

/** SQLSTATE `commit_unit` (migration 4) raises when the repository changed since the unit's basis was read. */
export const HEAD_CONFLICT_SQLSTATE = 'TGC04';
/** SQLSTATE `commit_unit` (migration 4) raises when the policy row changed since the unit was decided. */
export const POLICY_STALE_SQLSTATE = 'TGC05';

/** The LISTEN/NOTIFY channel of migration 4: `<quoted schema> <what> <repository> <head> <events>` per commit that changes something. */
export const CHANGE_CHANNEL = 'trustgate_change';

/**
 * One table's compare-and-set with inserts and guarded updates passed apart (migration 4), so no
 * statement counts them: a short row count raises `code` and the whole unit rolls back.
 */
function casRows(s: QuotedSchema, table: 'records' | 'tags', key: 'digest' | 'tag', code: string): string {
  const cols = 'w(key text, version bigint, expected bigint, data jsonb)';
  const [ins, upd] = [`${table}_ins`, `${table}_upd`];
  return `
  IF jsonb_array_length(${ins}) > 0 THEN
    INSERT INTO ${s}.${table} (repository, ${key}, version, data)
    SELECT repo, w.key, w.version, w.data FROM jsonb_to_recordset(${ins}) AS ${cols} ORDER BY w.key ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS got = ROW_COUNT;
    IF got <> jsonb_array_length(${ins}) THEN RAISE EXCEPTION '${table}: an insert found the row already there' USING ERRCODE = '${code}'; END IF;
  END IF;
  IF jsonb_array_length(${upd}) > 0 THEN
    UPDATE ${s}.${table} AS cur SET version = w.version, data = w.data
    FROM (SELECT * FROM jsonb_to_recordset(${upd}) AS ${cols} ORDER BY w.key) AS w
    WHERE cur.repository = repo AND cur.${key} = w.key AND cur.version = w.expected;
    GET DIAGNOSTICS got = ROW_COUNT;
    IF got <> jsonb_array_length(${upd}) THEN RAISE EXCEPTION '${table}: a guarded update found another version' USING ERRCODE = '${code}'; END IF;
  END IF;`;
}

/**
 * The repository head of migration 4: one version per repository, raised by every unit that
 * changes a record or tag. `basis` is the head the unit was decided on (-1: not known, only the
 * rows are guarded); a unit that changes nothing but its audit takes a share lock on the head, so
 * a rejection decided on a stale read rolls back too. Returns the head after the unit into `h`.
 */
function headBlock(s: QuotedSchema): string {
  const conflict = `RAISE EXCEPTION 'repository % changed since version %', repo, basis USING ERRCODE = '${HEAD_CONFLICT_SQLSTATE}'`;
  return `
  changes := jsonb_array_length(records_ins) + jsonb_array_length(records_upd) + jsonb_array_length(tags_ins) + jsonb_array_length(tags_upd) > 0;
  IF changes AND basis < 0 THEN
    INSERT INTO ${s}.heads AS cur VALUES (repo, 1) ON CONFLICT (repository) DO UPDATE SET version = cur.version + 1 RETURNING version INTO h;
  ELSIF changes AND basis = 0 THEN
    INSERT INTO ${s}.heads VALUES (repo, 1) ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS got = ROW_COUNT;
    IF got <> 1 THEN ${conflict}; END IF;
    h := 1;
  ELSIF changes THEN
    UPDATE ${s}.heads SET version = basis + 1 WHERE repository = repo AND version = basis;
    GET DIAGNOSTICS got = ROW_COUNT;
    IF got <> 1 THEN ${conflict}; END IF;
    h := basis + 1;
  ELSIF basis >= 0 THEN
    SELECT version INTO h FROM ${s}.heads WHERE repository = repo FOR SHARE;
    IF coalesce(h, 0) <> basis THEN ${conflict}; END IF;
  END IF;
  IF policy_rev >= 0 AND coalesce((SELECT revision FROM ${s}.policy), 0) <> policy_rev THEN
    RAISE EXCEPTION 'the policy is no longer at revision %', policy_rev USING ERRCODE = '${POLICY_STALE_SQLSTATE}';
  END IF;`;
}

MIGRATIONS.push(
  // Per-replica caches (sql-store.ts): a head version per repository, which the unit of work
  // compares and raises, so a command decided on a cached (possibly stale) state can never commit;
  // and a notification per change, which drops other replicas' cached copies early.
  (s) => [
    `CREATE TABLE ${s}.heads (repository text PRIMARY KEY, version bigint NOT NULL CHECK (version > 0))`,
    `INSERT INTO ${s}.heads SELECT repository, 1 FROM (SELECT repository FROM ${s}.records UNION SELECT repository FROM ${s}.tags) AS r`,
    `DROP FUNCTION ${s}.commit_unit(text, jsonb, jsonb, jsonb, jsonb)`,
    `CREATE FUNCTION ${s}.commit_unit(repo text, basis bigint, policy_rev bigint, records_ins jsonb, records_upd jsonb, tags_ins jsonb, tags_upd jsonb, ev jsonb, au jsonb)
     RETURNS bigint LANGUAGE plpgsql AS $$
     DECLARE got bigint; p0 bigint; a0 bigint; h bigint; changes boolean;
     BEGIN${headBlock(s)}${casRows(s, 'records', 'digest', CONFLICT_SQLSTATE.record)}${casRows(s, 'tags', 'tag', CONFLICT_SQLSTATE.tag)}
       IF jsonb_array_length(ev) + jsonb_array_length(au) > 0 THEN
         UPDATE ${s}.log_head SET outbox_position = outbox_position + jsonb_array_length(ev), audit_seq = audit_seq + jsonb_array_length(au)
         RETURNING outbox_position - jsonb_array_length(ev), audit_seq - jsonb_array_length(au) INTO p0, a0;
         INSERT INTO ${s}.outbox (position, repository, digest, event)
         SELECT p0 + e.ord, e.v->>'repository', e.v->>'digest', e.v FROM jsonb_array_elements(ev) WITH ORDINALITY AS e(v, ord);
         INSERT INTO ${s}.audit (seq, repository, digest, entry)
         SELECT a0 + a.ord, a.v->>'repository', a.v->>'digest', a.v FROM jsonb_array_elements(au) WITH ORDINALITY AS a(v, ord);
       END IF;
       -- Sent at COMMIT, and only then: a wake-up for relays and caches, never the data itself.
       IF changes OR jsonb_array_length(ev) > 0 THEN
         PERFORM pg_notify('${CHANGE_CHANNEL}', ${sqlString(s)} || ' unit ' || repo || ' ' || coalesce(h, 0) || ' ' || jsonb_array_length(ev));
       END IF;
       RETURN coalesce(h, 0);
     END $$`,
    // commit_policy as in migration 3, plus the notification that drops cached policies.
    `CREATE OR REPLACE FUNCTION ${s}.commit_policy_notify() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN PERFORM pg_notify('${CHANGE_CHANNEL}', ${sqlString(s)} || ' policy - ' || NEW.revision || ' 0'); RETURN NEW; END $$`,
    `CREATE TRIGGER policy_changed AFTER INSERT OR UPDATE ON ${s}.policy FOR EACH ROW EXECUTE FUNCTION ${s}.commit_policy_notify()`,
  ],
);

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
