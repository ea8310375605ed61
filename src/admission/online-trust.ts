/**
 * Online trust for the webhook: a {@link TrustSource} whose data comes from `fetchTrustData`
 * (src/fetch), with a TTL cache per GUN, one fetch in flight per GUN, background refresh before
 * the data expires, stale data only within an explicit maximum age, and a hard deadline on every
 * fetch so that a slow Notary server becomes a fast deny (fail closed), never a webhook timeout.
 *
 * Ages are judged at the query's `now` (the decision time: one clock, STYLE §8.6).
 *
 * @module
 */
import { TrustError } from '../errors.js';
import { fetchTrustData } from '../fetch/fetch.js';
import type { FetchOptions, FetchResult } from '../fetch/types.js';
import { verifyTrustDir } from '../trust-dir/reader.js';
import type { VerifiedRepository } from '../verify/types.js';
import { validUntil } from '../verify/valid-until.js';
import type { TrustQuery, TrustReuse, TrustSource } from './trust-source.js';

/** Defaults of {@link onlineTrustSource}, in milliseconds. */
export const ONLINE_TRUST_DEFAULTS = Object.freeze({
  /** Answers younger than this are served without asking the server. */
  ttlMs: 60_000,
  /** When the server cannot be asked, the last verified answer is served up to this age; beyond it, deny. */
  maxStaleMs: 5 * 60_000,
  /** Refresh in the background once the earliest expiry is this close. */
  refreshBeforeExpiryMs: 15 * 60_000,
  /** Every review that waits for a fetch is answered within this; keep it below the webhook's `timeoutSeconds`. */
  deadlineMs: 5_000,
});

/**
 * The time a fetch may take under `deadlineMs`: the deadline less a reserve (a tenth of it, at most
 * 100 ms) for routing the review and writing its answer, so that the review itself, not only its
 * fetch, is answered within the deadline (issue 16: p99 under a cold fetch ≤ the deadline).
 */
export function fetchBudgetMs(deadlineMs: number): number {
  return deadlineMs - Math.min(100, Math.floor(deadlineMs / 10));
}

export interface OnlineTrustOptions extends Omit<FetchOptions, 'gun' | 'now' | 'deadlineMs' | 'signal' | 'allowStale'> {
  /** The trust directory the fetches update (required: the webhook's own cache). */
  trustDir: string;
  ttlMs?: number;
  maxStaleMs?: number;
  refreshBeforeExpiryMs?: number;
  deadlineMs?: number;
}

/** Counters and facts for metrics and tests. */
export interface OnlineTrustStats {
  fetches: number;
  fetchErrors: number;
  /** Answers served from a verified answer older than the TTL because the server could not be asked. */
  staleServed: number;
}

export interface OnlineTrustSource extends TrustSource {
  verify(query: TrustQuery): Promise<VerifiedRepository>;
  readonly stats: OnlineTrustStats;
  /** Age of the data served for `gun` at `now` (since its last verified fetch), or undefined. */
  ageMs(gun: string, now: Date): number | undefined;
  /** GUNs with data. */
  guns(): string[];
  /** How long the answer for `query` may be reused: while it is within the TTL and not due for a refresh. */
  reuse(query: TrustQuery): TrustReuse | undefined;
}

interface Entry {
  repo: VerifiedRepository;
  /** When the data was last fetched and verified (ms, the clock of the query that fetched it). */
  fetchedAt: number;
  validUntil: number;
  /** Verifications of the committed cache under a rule's pins, by pins. */
  pinned: Map<string, VerifiedRepository>;
}

/** `work`, or ERR_FETCH_TIMEOUT once `ms` has passed (the fetch is also aborted through `abort`). */
async function withDeadline<T>(work: (signal: AbortSignal) => Promise<T>, ms: number, gun: string): Promise<T> {
  const ctl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ctl.abort();
      reject(new TrustError('ERR_FETCH_TIMEOUT', `${gun}: no verified trust data from the notary server within ${ms} ms`, { check: 'online trust deadline' }));
    }, ms);
  });
  const run = work(ctl.signal);
  run.catch(() => undefined); // a failure after the deadline answered must not go unhandled
  try {
    return await Promise.race([run, late]);
  } finally {
    clearTimeout(timer);
  }
}

function numberOption(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new TrustError('ERR_INVALID_ARGUMENT', `${name} must be an integer ≥ 0, got ${String(value)}`);
  return v;
}

/**
 * A {@link TrustSource} that fetches from a notary-server as requests come in.
 *
 * @example
 * ```ts
 * const trust = onlineTrustSource({ trustDir: '/var/lib/trustgate/trust', stateDir: '/var/lib/trustgate/state', deadlineMs: 3000 });
 * createAdmissionServer({ policy, sources: { trust }, tls, timeoutMs: 5000 });
 * ```
 * @throws {TrustError} `ERR_INVALID_ARGUMENT` for a bad option
 */
export function onlineTrustSource(opts: OnlineTrustOptions): OnlineTrustSource {
  const { ttlMs: ttl, maxStaleMs: maxStale, refreshBeforeExpiryMs: ahead, deadlineMs: deadline, ...fetchOptions } = opts;
  const d = ONLINE_TRUST_DEFAULTS;
  const ttlMs = numberOption('ttlMs', ttl, d.ttlMs);
  const maxStaleMs = numberOption('maxStaleMs', maxStale, d.maxStaleMs);
  const refreshMs = numberOption('refreshBeforeExpiryMs', ahead, d.refreshBeforeExpiryMs);
  const deadlineMs = numberOption('deadlineMs', deadline, d.deadlineMs);
  const entries = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<Entry>>();
  const stats: OnlineTrustStats = { fetches: 0, fetchErrors: 0, staleServed: 0 };

  const store = (gun: string, r: FetchResult, now: Date): Entry => {
    // fetchTrustData's own allowStale answered from the disk cache: its age is that of the last verified fetch.
    const fetchedAt = r.stale === undefined ? now.getTime() : Date.parse(r.stale.fetchedAt);
    const entry: Entry = { repo: r.repository, fetchedAt, validUntil: validUntil(r.repository).getTime(), pinned: new Map() };
    entries.set(gun, entry);
    return entry;
  };

  /** The one fetch of `gun` in flight, started if there is none (singleflight). */
  const refresh = (gun: string, now: Date): Promise<Entry> => {
    let p = inFlight.get(gun);
    if (p !== undefined) return p;
    stats.fetches++;
    const budgetMs = fetchBudgetMs(deadlineMs);
    p = withDeadline((signal) => fetchTrustData({ ...fetchOptions, gun, now, deadlineMs: budgetMs, signal, allowStale: { maxAgeMs: maxStaleMs } }), budgetMs, gun)
      .then((r) => store(gun, r, now))
      .catch((e: unknown) => {
        stats.fetchErrors++;
        throw e;
      })
      .finally(() => inFlight.delete(gun));
    inFlight.set(gun, p);
    return p;
  };

  const current = async (gun: string, now: Date): Promise<Entry> => {
    const t = now.getTime();
    const e = entries.get(gun);
    const usable = e !== undefined && t >= e.fetchedAt && t < e.validUntil;
    if (usable && t - e.fetchedAt < ttlMs && e.validUntil - t > refreshMs) return e;
    if (usable && t - e.fetchedAt <= maxStaleMs) {
      // Served while one refresh runs in the background; its failure is counted, not thrown.
      refresh(gun, now).catch(() => undefined);
      if (t - e.fetchedAt >= ttlMs) stats.staleServed++;
      return e;
    }
    return refresh(gun, now);
  };

  return {
    stats,
    ageMs: (gun, now) => {
      const e = entries.get(gun);
      return e === undefined ? undefined : now.getTime() - e.fetchedAt;
    },
    guns: () => [...entries.keys()],
    reuse({ gun }) {
      const e = entries.get(gun);
      // Exactly when `current` would answer from memory without starting a refresh.
      return e === undefined ? undefined : { fromMs: e.fetchedAt, untilMs: Math.min(e.fetchedAt + ttlMs, e.validUntil - refreshMs), forMs: Infinity };
    },
    async verify({ gun, now, pins }) {
      const e = await current(gun, now);
      if (pins === undefined) return e.repo;
      // A rule's root pins: the committed cache verified again under them, anchored by what was fetched.
      const key = JSON.stringify(pins);
      let repo = e.pinned.get(key);
      if (repo === undefined) {
        repo = verifyTrustDir({ gun, trustDir: opts.trustDir, now, pins, trustedState: e.repo.trustedState, ...(opts.mode ? { mode: opts.mode } : {}) });
        e.pinned.set(key, repo);
      }
      return repo;
    },
  };
}
