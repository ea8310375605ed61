/**
 * The stores the conformance suite runs against, each behind one small interface: open a fresh,
 * empty store; reopen it (a process restart); run raw SQL beside it (SQL stores only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { createMemoryStore } from '../../../src/quarantine/index.js';
import type { QuarantineStore } from '../../../src/quarantine/index.js';
import { createEmbeddedStore } from '../../../src/store/embedded.js';
import { createPostgresStore } from '../../../src/store/postgres.js';
import type { SqlQuarantineStore } from '../../../src/store/postgres.js';
import { postgresMissing, startCluster } from '../../helpers/postgres.js';
import type { PgCluster } from '../../helpers/postgres.js';

/** Raw SQL on the store's database, as an operator (or an attacker with table access) would run it. */
export type RawSql = (text: string, params?: readonly (string | number | null)[]) => Promise<Record<string, unknown>[]>;

/** One open store under test. */
export interface Subject<S extends QuarantineStore = QuarantineStore> {
  /** The current store (replaced by {@link Subject.reopen}). */
  store: S;
  /** Closes and opens the store again on the same data. */
  reopen(): Promise<void>;
  /** The schema the tables live in (SQL stores). */
  readonly schema: string;
  close(): Promise<void>;
}

/** A SQL store under test: raw SQL beside it. */
export interface SqlSubject extends Subject<SqlQuarantineStore> {
  /** Runs `fn` with raw SQL (the embedded store is closed meanwhile: PGlite has one connection). */
  sql<T>(fn: (q: RawSql) => Promise<T>): Promise<T>;
  /** Another store instance on the same database (a second replica), where the backend allows one. */
  replica?(): Promise<SqlQuarantineStore>;
  /** A store on the same database in another schema. */
  sibling(schema: string): Promise<SqlQuarantineStore>;
}

export interface StoreFactory<S extends Subject = Subject> {
  readonly name: string;
  open(): Promise<S>;
}

/** vitest's hooks, passed in so that this module stays importable outside vitest. */
export interface Hooks {
  beforeAll(fn: () => Promise<void>, timeout?: number): void;
  afterAll(fn: () => unknown): void;
}

let schemas = 0;
const freshSchema = () => `conf_${process.pid}_${++schemas}`;

export const memoryFactory: StoreFactory = {
  name: 'memory',
  async open() {
    const s: Subject = { store: createMemoryStore(), schema: '-', reopen: async () => undefined, close: async () => undefined };
    return s;
  },
};

/**
 * The embedded store: one PGlite per test file on a temp data directory (a fresh directory costs
 * an initdb, seconds), each subject in a schema of its own. `reopen` closes PGlite and opens the
 * directory again: a process restart.
 */
export function useEmbedded(hooks: Hooks): StoreFactory<SqlSubject> {
  let dataDir = '';
  let db: PGlite | undefined;
  hooks.beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'trustgate-pglite-'));
    db = await PGlite.create(dataDir);
  }, 60_000);
  hooks.afterAll(async () => {
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const shared = () => {
    if (db === undefined) throw new Error('PGlite not open');
    return db;
  };
  return {
    name: 'embedded',
    async open() {
      const schema = freshSchema();
      const s: SqlSubject = {
        store: await createEmbeddedStore({ pglite: shared(), schema }),
        schema,
        async reopen() {
          await s.store.close();
          await shared().close();
          db = await PGlite.create(dataDir);
          s.store = await createEmbeddedStore({ pglite: db, schema });
        },
        sql: (fn) => fn(async (text, params = []) => (await shared().query<Record<string, unknown>>(text, params as unknown[])).rows),
        replica: () => createEmbeddedStore({ pglite: shared(), schema }),
        sibling: (other) => createEmbeddedStore({ pglite: shared(), schema: other }),
        close: () => s.store.close(),
      };
      return s;
    },
  };
}

/**
 * PostgreSQL on a cluster started by {@link usePostgres}; each subject gets a schema of its own.
 */
export function postgresFactory(cluster: () => PgCluster): StoreFactory<SqlSubject> {
  return {
    name: 'postgres',
    async open() {
      const connectionString = cluster().url();
      const schema = freshSchema();
      const raw = new pg.Pool({ connectionString, max: 2 });
      const opened: SqlQuarantineStore[] = [];
      const open = async () => {
        const st = await createPostgresStore({ connectionString, schema });
        opened.push(st);
        return st;
      };
      const s: SqlSubject = {
        store: await open(),
        schema,
        async reopen() {
          await s.store.close();
          s.store = await open();
        },
        sql: (fn) => fn(async (text, params = []) => (await raw.query(text, params as unknown[])).rows as Record<string, unknown>[]),
        replica: open,
        sibling: (other) => createPostgresStore({ connectionString, schema: other }),
        async close() {
          for (const st of opened) await st.close().catch(() => undefined);
          await raw.end();
        },
      };
      return s;
    },
  };
}

/**
 * Starts one throw-away cluster for the calling test file. Returns why PostgreSQL is skipped here, if it is.
 */
export function usePostgres(hooks: Hooks): { cluster: () => PgCluster; missing: string | undefined } {
  const missing = postgresMissing();
  let c: PgCluster | undefined;
  if (missing === undefined) {
    hooks.beforeAll(async () => {
      c = await startCluster();
    }, 60_000);
    hooks.afterAll(() => c?.stop());
  }
  return {
    missing,
    cluster: () => {
      if (c === undefined) throw new Error('cluster not started');
      return c;
    },
  };
}
