/**
 * A pool of verifier worker threads (`node:worker_threads`, no dependency: the pool is a few
 * dozen lines and needs GUN affinity, which a generic pool does not give). Each image goes to the
 * worker its GUN hashes to, so one worker holds, caches and fetches one repository: the
 * remembered and online trust sources keep working per worker, singleflight included. A worker
 * that dies fails its pending decisions (the server answers 500, and the webhook's
 * `failurePolicy: Fail` denies) and is replaced.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { TrustError } from '../errors.js';
import { parseReference } from '../reference/parse.js';
import type { AdmissionDecision, AdmissionRequest } from './decision.js';
import type { TrustFacts } from './metrics.js';
import { decisionFromWire, fromWire, type FromWorker, type ToWorker, type WorkerConfig, type WorkerFacts } from './worker-protocol.js';

export type { WorkerConfig, WorkerTrustConfig } from './worker-protocol.js';

export interface VerifierPoolOptions {
  /** Worker threads (default: one less than the cores, at least 1, at most 4). */
  size?: number;
  config: WorkerConfig;
  /** The built worker module (default: `admission-worker.js` beside this module in dist/). */
  workerUrl?: URL;
  /** How often the trust facts behind /metrics are collected from the workers (default 5000 ms). */
  factsEveryMs?: number;
}

export interface VerifierPool {
  /** Decides one image in the worker of its GUN. */
  decide(request: AdmissionRequest): Promise<AdmissionDecision>;
  /** Sends a new policy (as written) to every worker; decisions asked for afterwards use it. */
  reload(policy: unknown): void;
  /** The workers' trust facts, as of the last collection. */
  readonly facts: TrustFacts;
  close(): Promise<void>;
}

interface Pending {
  resolve: (v: never) => void;
  reject: (e: Error) => void;
  slot: number;
}

/** FNV-1a: a stable worker per GUN. */
function slotOf(image: string, size: number): number {
  let key = image;
  try {
    key = parseReference(image).gun;
  } catch {
    // An unparsable reference is denied by whichever worker gets it.
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h % size;
}

/**
 * Starts the workers.
 *
 * @example
 * ```ts
 * const pool = createVerifierPool({ config: { policy: policy.source, trust: { kind: 'trust-dir', trustDir, stateDir } } });
 * createAdmissionServer({ policy, sources: { trust }, tls, decide: pool.decide });
 * ```
 */
export function createVerifierPool(opts: VerifierPoolOptions): VerifierPool {
  const size = opts.size ?? Math.min(4, Math.max(1, availableParallelism() - 1));
  if (!Number.isSafeInteger(size) || size < 1) throw new TrustError('ERR_INVALID_ARGUMENT', `pool size must be an integer ≥ 1, got ${String(opts.size)}`);
  const url = opts.workerUrl ?? new URL('./admission-worker.js', import.meta.url);
  const pending = new Map<number, Pending>();
  const factsOf: WorkerFacts[] = Array.from({ length: size }, () => ({ verifiedAt: [], fetchErrors: 0 }));
  let config = opts.config;
  let nextId = 1;
  let closing = false;
  const workers: Worker[] = [];

  const onMessage = (m: FromWorker, slot: number) => {
    if (m.type === 'facts') {
      factsOf[slot] = m.facts;
      return;
    }
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (m.type === 'decision') p.resolve(decisionFromWire(m.decision) as never);
    else p.reject(fromWire(m.error));
  };
  const start = (slot: number) => {
    const w = new Worker(url, { workerData: config });
    w.on('message', (m: FromWorker) => onMessage(m, slot));
    w.on('error', () => undefined); // 'exit' follows and handles it
    w.on('exit', () => {
      for (const [id, p] of pending) {
        if (p.slot !== slot) continue;
        pending.delete(id);
        p.reject(new TrustError('ERR_INTERNAL', 'the verifier worker stopped before it decided'));
      }
      if (!closing) workers[slot] = start(slot);
    });
    return w;
  };
  for (let i = 0; i < size; i++) workers.push(start(i));
  const send = (slot: number, m: ToWorker) => (workers[slot] as Worker).postMessage(m);
  const timer = setInterval(() => {
    for (let i = 0; i < size; i++) send(i, { type: 'facts', id: 0, now: new Date() });
  }, opts.factsEveryMs ?? 5000);
  timer.unref();

  return {
    decide(request) {
      const slot = slotOf(request.image, size);
      const id = nextId++;
      return new Promise<AdmissionDecision>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: never) => void, reject, slot });
        send(slot, { type: 'decide', id, request });
      });
    },
    reload(policy) {
      config = { ...config, policy };
      for (let i = 0; i < size; i++) send(i, { type: 'policy', policy });
    },
    facts: {
      guns: () => [...new Set(factsOf.flatMap((f) => f.verifiedAt.map(([g]) => g)))],
      ageMs: (gun, now) => {
        const times = factsOf.flatMap((f) => f.verifiedAt.filter(([g]) => g === gun).map(([, t]) => t));
        return times.length === 0 ? undefined : now.getTime() - Math.max(...times);
      },
      get stats() {
        return { fetchErrors: factsOf.reduce((n, f) => n + f.fetchErrors, 0) };
      },
    },
    async close() {
      closing = true;
      clearInterval(timer);
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
