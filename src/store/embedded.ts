/**
 * The embedded quarantine store for a single node, shipped as `trustgate/quarantine/embedded`:
 * PostgreSQL compiled to WebAssembly (PGlite) writing to a local directory, so the state survives
 * restarts with no server to run. It runs the very SQL of the server store. One process owns a
 * data directory at a time; replicas on several nodes need `trustgate/quarantine/postgres`.
 *
 * @module
 */
import { PGlite } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import { TrustError } from '../errors.js';
import type { SqlDriver, SqlParam, SqlQueryable, SqlResult } from './sql/driver.js';
import { openSqlStore, storeError } from './sql/sql-store.js';
import type { SqlQuarantineStore, SqlStoreOptions } from './sql/sql-store.js';

export type { SqlQuarantineStore, SqlStoreOptions } from './sql/sql-store.js';
export { SCHEMA_VERSION } from './sql/migrations.js';

/**
 * Options for {@link createEmbeddedStore}.
 *
 * @example
 * ```ts
 * const o: EmbeddedStoreOptions = { dataDir: '/var/lib/trustgate/quarantine' };
 * ```
 */
export interface EmbeddedStoreOptions extends SqlStoreOptions {
  /** Directory of the database files, created if missing; omitted: in memory only (tests). */
  readonly dataDir?: string | undefined;
  /**
   * A PGlite instance of your own instead of `dataDir` (shared by several stores in distinct
   * schemas, say); `close()` then leaves it open.
   */
  readonly pglite?: PGlite | undefined;
}

function runner(db: Pick<PGlite, 'query'> | Transaction): SqlQueryable {
  return {
    async query<R>(text: string, params: readonly SqlParam[] = []): Promise<SqlResult<R>> {
      const r = await db.query<R>(text, params as SqlParam[]);
      return { rows: r.rows, rowCount: r.affectedRows ?? 0 };
    },
  };
}

function pgliteDriver(db: PGlite, owned: boolean): SqlDriver {
  return {
    ...runner(db),
    transaction: (fn) => db.transaction((tx) => fn(runner(tx))),
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    close: async () => {
      if (owned) await db.close();
    },
  };
}

/**
 * Opens (creating and migrating as needed) the embedded store in `dataDir`.
 *
 * @throws {TrustError} `ERR_STORE_SCHEMA` when the data was written by newer code;
 * `ERR_STORE_UNAVAILABLE` when the directory cannot be opened. Opening a new directory runs initdb
 * (seconds); reopening one is fast (see bench/RESULTS.md).
 * @example
 * ```ts
 * import { createEmbeddedStore } from 'trustgate/quarantine/embedded';
 * const store = await createEmbeddedStore({ dataDir: './quarantine-data' });
 * // … on shutdown:
 * await store.close();
 * ```
 */
export async function createEmbeddedStore(options: EmbeddedStoreOptions = {}): Promise<SqlQuarantineStore> {
  if (options.dataDir !== undefined && (typeof options.dataDir !== 'string' || options.dataDir === '')) {
    throw new TrustError('ERR_INVALID_ARGUMENT', 'dataDir must be a non-empty path');
  }
  if (options.dataDir !== undefined && options.pglite !== undefined) {
    throw new TrustError('ERR_INVALID_ARGUMENT', 'pass dataDir or pglite, not both');
  }
  let db: PGlite;
  try {
    db = options.pglite ?? (await PGlite.create(options.dataDir));
  } catch (e) {
    throw storeError(e, 'open');
  }
  const driver = pgliteDriver(db, options.pglite === undefined);
  try {
    return await openSqlStore(driver, { schema: options.schema, cacheSize: options.cacheSize });
  } catch (e) {
    await driver.close().catch(() => undefined);
    throw e;
  }
}
