/**
 * A {@link QuarantineStore} over any {@link SqlDriver}: migrations on open, one transaction per
 * unit of work, compare-and-set on version columns, and every driver failure turned into a typed
 * {@link TrustError}.
 *
 * @module
 */
import { TrustError, isTrustError } from '../../errors.js';
import type { OutboxEntry, QuarantineStore } from '../../quarantine/store.js';
import type { SqlDriver } from './driver.js';
import { NOTIFY_CHANNEL, migrate, quoteSchema } from './migrations.js';
import { acknowledge, claimEvents, commitPolicy, commitUnit, conflictOf, listRepositories, loadPolicy, loadRepository, pendingEvents, readAudit } from './operations.js';

/**
 * A SQL-backed quarantine store.
 *
 * `pendingEvents` order: events come in `position` order, and positions are handed out under a
 * lock held until COMMIT, so position order is commit order, across repositories as well as within
 * one. Positions of committed events are gap-free (a rolled-back unit takes none), so a reader never
 * sees position p before every q < p is visible; per digest, `event.sequence` therefore also rises by
 * one along the list. The audit log has the same property (`seq` is commit order, gap-free), so any
 * read of it is a prefix of every later read (Q22).
 *
 * @example
 * ```ts
 * import { createPostgresStore } from 'trustgate/quarantine/postgres';
 * const store: SqlQuarantineStore = await createPostgresStore({ connectionString: process.env.DATABASE_URL });
 * ```
 */
export interface SqlQuarantineStore extends QuarantineStore {
  /**
   * Relay helper: claims up to `limit` undelivered events with `FOR UPDATE SKIP LOCKED`, passes them
   * to `deliver`, and marks exactly those rows delivered when it resolves, all in one transaction.
   * Concurrent relays get disjoint batches; a `deliver` that throws leaves its rows pending, and its
   * error is rethrown as it was.
   * Returns how many events were delivered.
   */
  deliverEvents(deliver: (events: readonly OutboxEntry[]) => Promise<void>, limit?: number): Promise<number>;
  /**
   * Calls `wake` soon after a commit that added events (PostgreSQL LISTEN/NOTIFY, sent at COMMIT),
   * so a relay need not poll tightly. A wake-up carries no events and may be lost (a dropped
   * connection), so relays still poll `pendingEvents`/`deliverEvents` now and then; it is never
   * a substitute for them. Resolves to the function that stops listening.
   */
  onEvents(wake: () => void): Promise<() => Promise<void>>;
  /** Closes what the store opened (a pool passed in by the caller stays open). */
  close(): Promise<void>;
}

/** SQLSTATEs a retry can cure: serialization failure, deadlock. */
const RETRYABLE = new Set(['40001', '40P01']);

/** A driver failure as a typed error; a TrustError passes through. */
export function storeError(e: unknown, operation: string): TrustError {
  if (isTrustError(e)) return e;
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  const message = e instanceof Error ? e.message : String(e);
  const lost = typeof code === 'string' ? conflictOf(code, message, e) : undefined;
  if (lost !== undefined) return lost;
  if (typeof code === 'string' && RETRYABLE.has(code)) {
    return new TrustError('ERR_CONFLICT', `${operation}: ${message}`, { check: `sqlstate ${code}`, cause: e });
  }
  return new TrustError('ERR_STORE_UNAVAILABLE', `quarantine store ${operation} failed: ${message}`, {
    check: typeof code === 'string' ? `sqlstate ${code}` : 'store connection',
    cause: e,
  });
}

/** Runs `fn`, turning whatever it throws into a typed error. */
async function guarded<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw storeError(e, operation);
  }
}

/** Options shared by the SQL-backed stores. */
export interface SqlStoreOptions {
  /** The PostgreSQL schema holding the tables; default `trustgate`. */
  readonly schema?: string | undefined;
}

/**
 * Migrates `schema` and returns a store over `db`.
 * @throws {TrustError} `ERR_STORE_SCHEMA` when the database is newer than this code;
 * `ERR_STORE_UNAVAILABLE` when it cannot be reached; `ERR_INVALID_ARGUMENT` for a bad schema name.
 */
export async function openSqlStore(db: SqlDriver, options: SqlStoreOptions = {}): Promise<SqlQuarantineStore> {
  const name = options.schema ?? 'trustgate';
  const s = quoteSchema(name);
  await guarded('migrate', () => migrate(db, name));
  return {
    load: (repository) => guarded('load', () => loadRepository(db, s, repository)),
    repositories: () => guarded('repositories', () => listRepositories(db, s)),
    commit: (unit) => guarded('commit', () => commitUnit(db, s, unit)),
    readAudit: (filter) => guarded('readAudit', () => readAudit(db, s, filter)),
    pendingEvents: (limit = 100) => guarded('pendingEvents', () => pendingEvents(db, s, limit)),
    loadPolicy: () => guarded('loadPolicy', () => loadPolicy(db, s)),
    commitPolicy: (write) => guarded('commitPolicy', () => commitPolicy(db, s, write)),
    acknowledgeEvents: (positions) => guarded('acknowledgeEvents', () => acknowledge(db, s, positions.filter((p) => Number.isSafeInteger(p)))),
    async deliverEvents(deliver, limit = 100) {
      let failed: { readonly error: unknown } | undefined;
      try {
        return await guarded('deliverEvents', () =>
          db.transaction(async (tx) => {
            const batch = await claimEvents(tx, s, limit);
            if (batch.length === 0) return 0;
            await deliver(batch).catch((error: unknown) => {
              failed = { error };
              throw error;
            });
            await acknowledge(tx, s, batch.map((e) => e.position));
            return batch.length;
          }),
        );
      } catch (e) {
        // The relay's own failure comes back as it was thrown; the rows stay pending.
        throw failed === undefined ? e : failed.error;
      }
    },
    onEvents: (wake) => guarded('onEvents', () => db.listen(NOTIFY_CHANNEL, (payload) => payload === s && wake())),
    close: () => db.close(),
  };
}
