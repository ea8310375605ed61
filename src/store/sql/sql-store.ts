/**
 * A {@link QuarantineStore} over any {@link SqlDriver}: migrations on open, one transaction per
 * unit of work, compare-and-set on version columns, and every driver failure turned into a typed
 * {@link TrustError}.
 *
 * @module
 */
import { TrustError, isTrustError } from '../../errors.js';
import type { Decision, OutboxEntry, QuarantineStore, UnitOfWork } from '../../quarantine/store.js';
import type { RepositoryState } from '../../quarantine/types.js';
import type { StoredPolicy } from '../../quarantine/policy-commands.js';
import { MAX_KNOWN, ReplicaCache, parseChange } from './cache.js';
import type { SqlDriver } from './driver.js';
import { CHANGE_CHANNEL, migrate, quoteSchema } from './migrations.js';
import type { QuotedSchema } from './migrations.js';
import { acknowledge, claimEvents, commitPolicy, commitUnit, conflictOf, currentHead, listHeads, listRepositories, loadPolicy, loadRepository, pendingEvents, readAudit } from './operations.js';

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
  /**
   * Repositories this replica keeps in its cache (cache.ts); default 1000, 0 turns the cache off
   * (every load and policy read goes to the database).
   */
  readonly cacheSize?: number | undefined;
}

/** What the cached operations share. */
interface Cached {
  readonly db: SqlDriver;
  readonly s: QuotedSchema;
  readonly cache: ReplicaCache;
}

/** A load from the cache, or from the database (then cached). */
async function cachedLoad(c: Cached, repository: string): Promise<RepositoryState> {
  const hit = c.cache.get(repository);
  if (hit !== undefined) return hit;
  const mark = c.cache.mark();
  const { state, head } = await loadRepository(c.db, c.s, repository);
  c.cache.store(repository, state, head, mark);
  return state;
}

/** A unit guarded by the head its basis was read at; the state after it cached on success. */
async function cachedCommit(c: Cached, unit: UnitOfWork): Promise<void> {
  const basis = c.cache.headOf(unit.basis);
  const mark = c.cache.mark();
  let head: number;
  try {
    head = await commitUnit(c.db, c.s, unit, basis ?? -1, basis === undefined ? -1 : (unit.policyRevision ?? 0));
  } catch (e) {
    // A lost race, or an outcome unknown: whatever is cached for the repository (or the policy,
    // when its revision was what moved) may be stale.
    c.cache.drop(unit.repository);
    c.cache.dropPolicy();
    throw e;
  }
  const changed = unit.records.length + unit.tags.length > 0;
  if (!changed) return;
  if (basis === undefined || unit.after === undefined) c.cache.drop(unit.repository);
  else c.cache.store(unit.repository, unit.after, head, mark);
}

/** A command that wrote nothing: was it decided on the current state? */
async function confirmDecision(c: Cached, decision: Decision): Promise<void> {
  const basis = c.cache.headOf(decision.basis);
  if (basis === undefined) return;
  const now = await currentHead(c.db, c.s, decision.basis.repository);
  if (now.head !== basis || now.policy !== decision.policyRevision) {
    c.cache.drop(decision.basis.repository);
    c.cache.dropPolicy();
    throw new TrustError('ERR_CONFLICT', `repository ${decision.basis.repository} changed while a command was decided`, { check: 'record version' });
  }
}

/** The policy row from the cache, or from the database (then cached). */
async function cachedPolicy(c: Cached): Promise<StoredPolicy | undefined> {
  const hit = c.cache.policy();
  if (hit !== undefined) return hit.row;
  const mark = c.cache.markPolicy();
  const row = await loadPolicy(c.db, c.s);
  c.cache.storePolicy(row, mark);
  return row;
}

/**
 * Subscribes the cache to change notifications; it serves only while subscribed. A lost
 * subscription drops the cache and is taken up again on a later read.
 */
function subscribe(c: Cached): { ensure(): Promise<void> | undefined; stop(): Promise<void> } {
  let stop: (() => Promise<void>) | undefined;
  let pending: Promise<void> | undefined;
  let closed = false;
  const lost = () => {
    stop = undefined;
    c.cache.setLive(false);
  };
  const ensure = () => {
    if (closed || stop !== undefined || pending !== undefined) return pending;
    pending = c.db
      .listen(CHANGE_CHANNEL, (payload) => {
        const change = parseChange(c.s, payload);
        if (change !== undefined) c.cache.changed(change);
      }, lost)
      .then(
        async (s) => {
          stop = s;
          if (closed) return void s().catch(() => undefined);
          c.cache.setLive(true);
          // Which repositories exist, read after LISTEN is up: a later creation is notified.
          const known = await listHeads(c.db, c.s, MAX_KNOWN + 1).catch(() => undefined);
          if (known !== undefined) c.cache.seed(known);
        },
        () => undefined,
      )
      .finally(() => (pending = undefined));
    return pending;
  };
  return {
    ensure,
    stop: async () => {
      closed = true;
      await pending;
      c.cache.setLive(false);
      await stop?.().catch(() => undefined);
    },
  };
}

/**
 * Migrates `schema` and returns a store over `db`.
 * @throws {TrustError} `ERR_STORE_SCHEMA` when the database is newer than this code;
 * `ERR_STORE_UNAVAILABLE` when it cannot be reached; `ERR_INVALID_ARGUMENT` for a bad schema name.
 */
export async function openSqlStore(db: SqlDriver, options: SqlStoreOptions = {}): Promise<SqlQuarantineStore> {
  const name = options.schema ?? 'trustgate';
  if (options.cacheSize !== undefined && (!Number.isSafeInteger(options.cacheSize) || options.cacheSize < 0)) {
    throw new TrustError('ERR_INVALID_ARGUMENT', 'cacheSize must be a whole number ≥ 0');
  }
  const s = quoteSchema(name);
  await guarded('migrate', () => migrate(db, name));
  const c: Cached = { db, s, cache: new ReplicaCache(options.cacheSize) };
  const live = options.cacheSize === 0 ? undefined : subscribe(c);
  // The store opens with its subscription up (or, if LISTEN failed, with no cache until it is).
  await live?.ensure();
  return {
    load: (repository) => {
      live?.ensure();
      return guarded('load', () => cachedLoad(c, repository));
    },
    repositories: () => guarded('repositories', () => listRepositories(db, s)),
    commit: (unit) => guarded('commit', () => cachedCommit(c, unit)),
    confirm: (decision) => guarded('confirm', () => confirmDecision(c, decision)),
    readAudit: (filter) => guarded('readAudit', () => readAudit(db, s, filter)),
    pendingEvents: (limit = 100) => guarded('pendingEvents', () => pendingEvents(db, s, limit)),
    loadPolicy: () => guarded('loadPolicy', () => cachedPolicy(c)),
    commitPolicy: (write) =>
      guarded('commitPolicy', async () => {
        // This replica's next read sees its own write at once, not when the notification comes.
        c.cache.dropPolicy();
        await commitPolicy(db, s, write).finally(() => c.cache.dropPolicy());
      }),
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
    onEvents: (wake) =>
      guarded('onEvents', () =>
        db.listen(CHANGE_CHANNEL, (payload) => {
          if ((parseChange(s, payload)?.events ?? 0) > 0) wake();
        }),
      ),
    close: async () => {
      await live?.stop();
      await db.close();
    },
  };
}
