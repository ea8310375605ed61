/**
 * The quarantine store on a PostgreSQL server through node-postgres (`pg`), shipped as
 * `trustgate/quarantine/postgres`. Any number of service replicas may share one database:
 * compare-and-set on version columns makes their commits linearizable (Q16).
 *
 * @module
 */
import pg from 'pg';
import { TrustError } from '../errors.js';
import type { SqlDriver, SqlParam, SqlQueryable, SqlResult } from './sql/driver.js';
import { openSqlStore } from './sql/sql-store.js';
import type { SqlQuarantineStore, SqlStoreOptions } from './sql/sql-store.js';

export type { SqlQuarantineStore, SqlStoreOptions } from './sql/sql-store.js';
export { SCHEMA_VERSION } from './sql/migrations.js';

/**
 * Options for {@link createPostgresStore}: a pool of your own, or a connection string for a pool
 * the store opens (and closes in `close()`).
 *
 * @example
 * ```ts
 * const o: PostgresStoreOptions = { connectionString: 'postgres://app@db/registry', schema: 'quarantine' };
 * ```
 */
export type PostgresStoreOptions = SqlStoreOptions &
  ({ readonly pool: pg.Pool; readonly connectionString?: undefined } | { readonly connectionString: string; readonly pool?: undefined; readonly max?: number });

type PgRunner = Pick<pg.PoolClient, 'query'> | Pick<pg.Pool, 'query'>;

/** Statement names by text: the store's statements are few and fixed, so each is prepared once per connection. */
const names = new Map<string, string>();
function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) names.set(text, (name = `trustgate_${names.size}`));
  return name;
}

function runner(client: PgRunner): SqlQueryable {
  return {
    async query<R>(text: string, params: readonly SqlParam[] = []): Promise<SqlResult<R>> {
      // Parameterised statements are prepared (named); the rest (DDL, BEGIN) go as they are.
      const r = params.length === 0 ? await client.query(text) : await client.query({ name: statementName(text), text, values: params as SqlParam[] });
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    },
  };
}

/** A {@link SqlDriver} over a pg pool: each transaction on one checked-out client. */
function pgDriver(pool: pg.Pool, owned: boolean): SqlDriver {
  return {
    ...runner(pool),
    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const out = await fn(runner(client));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch((err: unknown) => {
          // A connection that cannot even roll back is dropped, not returned to the pool.
          broken = err instanceof Error ? err : new Error(String(err));
        });
        throw e;
      } finally {
        client.release(broken);
      }
    },
    async listen(channel, onNotify, onLost) {
      // A connection of its own, outside the pool: a subscription held for the store's life must
      // not take one of the caller's pool slots (a pool of one would then never serve a query).
      const client = new pg.Client(pool.options);
      let ended = false;
      const lost = () => {
        if (ended) return;
        ended = true;
        onLost?.();
      };
      // A dropped listening connection is not the caller's error: the subscription just ends.
      client.on('error', lost);
      client.on('end', lost);
      client.on('notification', (m: pg.Notification) => {
        if (m.channel === channel) onNotify(m.payload ?? '');
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${channel}`);
      } catch (e) {
        ended = true;
        await client.end().catch(() => undefined);
        throw e;
      }
      return async () => {
        ended = true;
        await client.end().catch(() => undefined);
      };
    },
    close: async () => {
      if (owned) await pool.end();
    },
  };
}

/**
 * Opens (and migrates) the quarantine tables in `schema` (default `trustgate`) of a PostgreSQL
 * database.
 *
 * @throws {TrustError} `ERR_STORE_SCHEMA` when the database was migrated by newer code;
 * `ERR_STORE_UNAVAILABLE` when it cannot be reached; `ERR_INVALID_ARGUMENT` for bad options.
 * @example
 * ```ts
 * import { createPostgresStore } from 'trustgate/quarantine/postgres';
 * import { createQuarantineService } from 'trustgate/quarantine';
 * const store = await createPostgresStore({ connectionString: 'postgres://app@db/registry' });
 * const q = createQuarantineService({ store, config: { scanners: ['trivy'] } });
 * // … on shutdown:
 * await store.close();
 * ```
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<SqlQuarantineStore> {
  const given = options.pool;
  if (given === undefined && typeof options.connectionString !== 'string') {
    throw new TrustError('ERR_INVALID_ARGUMENT', 'createPostgresStore needs a pool or a connectionString');
  }
  const pool = given ?? new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 10 });
  // A client losing its server (a restart) must not crash the process with an unhandled 'error'
  // event, idle in the pool or between a query and its release (found by the fault test): the
  // query in flight fails with ERR_STORE_UNAVAILABLE and the pool replaces the client.
  if (given === undefined) pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const driver = pgDriver(pool, given === undefined);
  try {
    return await openSqlStore(driver, { schema: options.schema, cacheSize: options.cacheSize });
  } catch (e) {
    await driver.close();
    throw e;
  }
}
