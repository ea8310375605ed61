/**
 * A pool of verifier worker threads (`node:worker_threads`, no dependency: the pool is a few
 * dozen lines and needs GUN affinity, which a generic pool does not give), seen by the server
 * as one {@link TrustSource}. Each GUN goes to the worker it hashes to, so one worker holds,
 * caches and fetches one repository: the remembered and online trust sources keep working per
 * worker, singleflight included.
 *
 * The server thread keeps a copy of every repository a worker verified, with the bound the
 * worker's source gave for reusing it (`TrustSource.reuse`: its validity, the recheck interval
 * of the files, the TTL). A query inside that bound is answered in the server thread with no
 * message; only a query outside it — first use, a recheck of the files, a refresh — goes to the
 * worker, and a repository crosses the thread only when it is new (by epoch). The decision
 * itself (`checkAdmission`) runs in the server thread with the server's own sources, so a
 * quarantine reader, a `repositoryFor` or any other function stays where it was given.
 *
 * A worker that dies fails its pending queries with `ERR_INTERNAL` (the image is denied) and is
 * replaced.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { TrustError } from '../errors.js';
import type { VerifiedRepository } from '../verify/types.js';
import type { TrustFactsProvider, TrustSnapshot } from './metrics.js';
import { repositoryFromWire } from './repository-wire.js';
import type { TrustQuery, TrustSource } from './trust-source.js';
import { fromWire, type FromWorker, type ToWorker, type WorkerConfig, type WorkerFacts } from './worker-protocol.js';

export type { WorkerConfig, WorkerTrustConfig } from './worker-protocol.js';

export interface VerifierPoolOptions {
  /** Worker threads (default: one less than the cores, at least 1, at most 4). */
  size?: number;
  /** Plain data only: a function (a callback, a custom source) cannot cross to a worker. */
  config: WorkerConfig;
  /** The built worker module (default: `admission-worker.js` beside this module in dist/). */
  workerUrl?: URL;
  /** Repositories kept in the server thread (default 4096); the least recently verified goes first. */
  maxEntries?: number;
  /** How long a scrape waits for a busy worker's facts before using its last ones (default 2000 ms). */
  factsTimeoutMs?: number;
}

/** Counters for tests and the bench. */
export interface PooledTrustStats {
  /** Queries answered in the server thread. */
  hits: number;
  /** Queries sent to a worker. */
  asks: number;
  /** Repositories that crossed from a worker. */
  transfers: number;
}

export interface PooledTrustSource extends TrustSource {
  readonly stats: PooledTrustStats;
}

export interface VerifierPool extends TrustFactsProvider {
  /** Why the pool cannot answer yet (workers starting, or failing to start), or undefined when every worker is ready. */
  readiness(): string | undefined;
  /** Trust verified in the workers: give it as `sources.trust` to `createAdmissionServer` or `checkAdmission`. */
  readonly trust: PooledTrustSource;
  /** The workers' trust facts at `now`, asked for (for `/metrics`, current at each scrape). */
  snapshot(now: Date): Promise<TrustSnapshot>;
  close(): Promise<void>;
}

interface Entry {
  epoch: string;
  repo: VerifiedRepository;
  fromMs: number;
  untilMs: number;
  /** `performance.now()` after which the worker must be asked again. */
  deadline: number;
  /** `performance.now()` after which the worker is asked ahead, in the background, to look again. */
  refreshAt: number;
}

/**
 * The share of the recheck window after which the worker is asked to look at the files again
 * while this thread keeps answering: the answer is normally back before the window closes, so no
 * review waits for the look (a wait that, once a second per GUN, was a tail of the latency).
 */
const REFRESH_AHEAD = 0.75;

interface Pending {
  resolve: (m: FromWorker) => void;
  reject: (e: Error) => void;
  slot: number;
}

/** FNV-1a: a stable worker per GUN. */
function slotOf(gun: string, size: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < gun.length; i++) h = Math.imul(h ^ gun.charCodeAt(i), 0x01000193) >>> 0;
  return h % size;
}

const keyOf = (q: TrustQuery) => `${q.gun}\u0000${JSON.stringify(q.pins ?? null)}`;
const covers = (e: Entry, q: TrustQuery) => {
  const t = q.now.getTime();
  return t >= e.fromMs && t < e.untilMs && performance.now() < e.deadline;
};

/**
 * Refuses what structured clone would refuse or silently change: functions, symbols and class
 * instances other than Date and typed arrays. A custom trust source or callback belongs in the
 * server thread (`sources.trust`), not in a worker's config.
 *
 * @throws {TrustError} `ERR_INVALID_ARGUMENT` naming the first such value
 */
function assertPlain(value: unknown, path: string): void {
  if (typeof value === 'function' || typeof value === 'symbol') {
    throw new TrustError('ERR_INVALID_ARGUMENT', `${path} is a ${typeof value}: a verifier worker is started with plain data only; run a custom trust source or callback in the server thread (sources.trust) instead`, { check: 'verifier pool config' });
  }
  if (typeof value !== 'object' || value === null || value instanceof Date || ArrayBuffer.isView(value)) return;
  const proto = Object.getPrototypeOf(value) as unknown;
  // process.env (e.g. as `proxyEnv`) is an exotic object that clones as its variables.
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null && value !== process.env) {
    throw new TrustError('ERR_INVALID_ARGUMENT', `${path} is a ${(value as object).constructor?.name ?? 'class instance'}, not plain data a verifier worker can be started with`, { check: 'verifier pool config' });
  }
  for (const [k, v] of Object.entries(value)) assertPlain(v, `${path}.${k}`);
}

/** The workers, their messages and their replacement. */
function startWorkers(size: number, url: URL, config: WorkerConfig) {
  const pending = new Map<number, Pending>();
  const workers: Worker[] = [];
  /** Per slot: undefined when ready, else why not. */
  const notReady: Array<string | undefined> = Array.from({ length: size }, () => 'starting');
  /** Per slot: how long to wait before starting again a worker that died before it was ready. */
  const backoff: number[] = Array.from({ length: size }, () => 0);
  let nextId = 1;
  let closing = false;
  const onMessage = (m: FromWorker, slot: number) => {
    if (m.type === 'ready') {
      notReady[slot] = undefined;
      backoff[slot] = 0;
      return;
    }
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (m.type === 'failed') p.reject(fromWire(m.error));
    else p.resolve(m);
  };
  const alive: boolean[] = [];
  const start = (slot: number): Worker => {
    const w = new Worker(url, { workerData: config });
    alive[slot] = true;
    w.on('message', (m: FromWorker) => onMessage(m, slot));
    // 'exit' follows and handles it; the error says why a worker could not start.
    w.on('error', (e) => (notReady[slot] = `verifier worker ${slot} failed: ${e.message}`));
    w.on('exit', () => {
      alive[slot] = false;
      for (const [id, p] of pending) {
        if (p.slot !== slot) continue;
        pending.delete(id);
        p.reject(new TrustError('ERR_INTERNAL', 'the verifier worker stopped before it answered'));
      }
      if (closing) return;
      // A worker that dies before it is ready (a bad config) is started again, more slowly each time.
      const wait = notReady[slot] === undefined ? 0 : (backoff[slot] = Math.min(5_000, Math.max(100, (backoff[slot] as number) * 2)));
      notReady[slot] ??= 'restarting';
      setTimeout(() => !closing && (workers[slot] = start(slot)), wait).unref();
    });
    return w;
  };
  for (let i = 0; i < size; i++) workers.push(start(i));
  /** One question to the worker in `slot`. */
  const call = (slot: number, m: Omit<Extract<ToWorker, { type: 'verify' }>, 'id'> | Omit<Extract<ToWorker, { type: 'facts' }>, 'id'>): Promise<FromWorker> => {
    const id = nextId++;
    if (alive[slot] !== true) return Promise.reject(new TrustError('ERR_INTERNAL', `verifier worker ${slot} is not running (${notReady[slot] ?? 'restarting'})`));
    return new Promise<FromWorker>((resolve, reject) => {
      pending.set(id, { resolve, reject, slot });
      (workers[slot] as Worker).postMessage({ ...m, id });
    });
  };
  const close = async () => {
    closing = true;
    await Promise.all(workers.map((w) => w.terminate()));
  };
  const readiness = () => notReady.find((why) => why !== undefined);
  return { call, close, readiness };
}

/** The server thread's copy of the workers' answers, as a TrustSource. */
function pooledTrust(size: number, call: ReturnType<typeof startWorkers>['call'], max: number): PooledTrustSource {
  const entries = new Map<string, Entry>();
  /** The one question in flight per key. */
  const inFlight = new Map<string, Promise<Entry>>();
  const stats: PooledTrustStats = { hits: 0, asks: 0, transfers: 0 };

  const ask = async (key: string, query: TrustQuery, look = false): Promise<Entry> => {
    const known = entries.get(key);
    stats.asks++;
    const m = (await call(slotOf(query.gun, size), { type: 'verify', query, ...(known ? { known: known.epoch } : {}), ...(look ? { look } : {}) })) as Extract<FromWorker, { type: 'verified' }>;
    let repo: VerifiedRepository;
    if (m.repo !== undefined) {
      repo = repositoryFromWire(m.repo);
      stats.transfers++;
    } else if (known?.epoch === m.epoch) {
      repo = known.repo;
    } else {
      throw new TrustError('ERR_INTERNAL', `${query.gun}: the verifier worker answered with a repository this thread does not hold`);
    }
    const r = m.reuse;
    const nowTicks = performance.now();
    const forMs = r?.forMs ?? 0;
    const entry: Entry = { epoch: m.epoch, repo, fromMs: r?.fromMs ?? Infinity, untilMs: r?.untilMs ?? -Infinity, deadline: nowTicks + forMs, refreshAt: nowTicks + forMs * REFRESH_AHEAD };
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size > max) entries.delete(entries.keys().next().value as string);
    return entry;
  };

  /**
   * Singleflight: queries for a key wait for the question in flight. Its failure is theirs too
   * (a fetch that missed its deadline is not waited for twice); an answer that does not cover a
   * waiter's instant (a stale online answer, say) is asked for again at that instant.
   */
  const shared = (key: string, query: TrustQuery): Promise<VerifiedRepository> => {
    const flight = inFlight.get(key);
    if (flight !== undefined) return flight.then((e) => (covers(e, query) ? e.repo : ask(key, query).then((x) => x.repo)));
    const answer = ask(key, query);
    inFlight.set(key, answer);
    const done = () => inFlight.get(key) === answer && inFlight.delete(key);
    answer.then(done, done);
    return answer.then((e) => e.repo);
  };

  /** The background look ahead of the recheck; a failure drops the copy, so the next query asks and gets it. */
  const refreshAhead = (key: string, query: TrustQuery, e: Entry) => {
    e.refreshAt = Infinity;
    const answer = ask(key, query, true);
    inFlight.set(key, answer);
    const done = () => inFlight.get(key) === answer && inFlight.delete(key);
    answer.then(done, () => {
      done();
      if (entries.get(key) === e) entries.delete(key);
    });
  };

  return {
    stats,
    verify(query) {
      const key = keyOf(query);
      const e = entries.get(key);
      if (e !== undefined && covers(e, query)) {
        stats.hits++;
        if (performance.now() >= e.refreshAt && !inFlight.has(key)) refreshAhead(key, query, e);
        return e.repo;
      }
      return shared(key, query);
    },
  };
}

/** Every worker's facts, merged: the newest verification per GUN, fetch errors summed. */
function merge(all: readonly WorkerFacts[], now: Date): TrustSnapshot {
  const newest = new Map<string, number>();
  let fetchErrors = 0;
  for (const f of all) {
    fetchErrors += f.fetchErrors;
    for (const [gun, ms] of f.verifiedAt) newest.set(gun, Math.max(ms, newest.get(gun) ?? -Infinity));
  }
  return { ageMs: [...newest].map(([gun, ms]) => [gun, now.getTime() - ms]), fetchErrors };
}

/**
 * Starts the workers.
 *
 * @example
 * ```ts
 * const pool = createVerifierPool({ config: { trust: { kind: 'trust-dir', trustDir, stateDir } } });
 * createAdmissionServer({ policy, sources: { trust: pool.trust }, tls, metrics: createAdmissionMetrics(pool) });
 * ```
 * @throws {TrustError} `ERR_INVALID_ARGUMENT` for a bad size or a config that is not plain data
 */
export function createVerifierPool(opts: VerifierPoolOptions): VerifierPool {
  const size = opts.size ?? Math.min(4, Math.max(1, availableParallelism() - 1));
  if (!Number.isSafeInteger(size) || size < 1) throw new TrustError('ERR_INVALID_ARGUMENT', `pool size must be an integer ≥ 1, got ${String(opts.size)}`);
  assertPlain(opts.config, 'config');
  const url = opts.workerUrl ?? new URL('./admission-worker.js', import.meta.url);
  const { call, close, readiness } = startWorkers(size, url, opts.config);
  const last: WorkerFacts[] = Array.from({ length: size }, () => ({ verifiedAt: [], fetchErrors: 0 }));
  const waitMs = opts.factsTimeoutMs ?? 2000;

  /** One worker's facts now, or its last ones if it is too busy verifying to answer in time. */
  const factsOf = async (slot: number, now: Date): Promise<WorkerFacts> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((r) => (timer = setTimeout(r, waitMs, undefined)));
    // A worker that stopped has no facts to give: its last ones stand.
    const asked = call(slot, { type: 'facts', now }).then(
      (m) => (m.type === 'facts' ? m.facts : undefined),
      () => undefined,
    );
    const got = await Promise.race([asked, late]).finally(() => clearTimeout(timer));
    if (got !== undefined) last[slot] = got;
    return last[slot] as WorkerFacts;
  };

  return {
    readiness,
    trust: pooledTrust(size, call, opts.maxEntries ?? 4096),
    snapshot: async (now) => merge(await Promise.all(last.map((_, slot) => factsOf(slot, now))), now),
    close,
  };
}
