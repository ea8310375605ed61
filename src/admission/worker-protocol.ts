/**
 * What the verifier pool and its workers say to each other (src/admission/pool.ts,
 * src/admission/worker.ts). Everything crosses `postMessage` as structured-clone data: a
 * `TrustError` travels as its JSON form and is rebuilt on the other side, a verified repository
 * as {@link WireRepository} (src/admission/repository-wire.ts).
 *
 * @module
 */
import { TrustError, type TrustErrorCode } from '../errors.js';
import type { OnlineTrustOptions } from './online-trust.js';
import type { RememberedTrustOptions } from './remembered-trust.js';
import type { WireRepository } from './repository-wire.js';
import type { TrustQuery, TrustReuse } from './trust-source.js';

/** Where a worker's trust data comes from: plain data only (functions do not cross threads). */
export type WorkerTrustConfig = ({ kind: 'trust-dir' } & Omit<RememberedTrustOptions, 'ticks'>) | ({ kind: 'online' } & Omit<OnlineTrustOptions, 'onProgress'>);

/** What each worker is started with (`workerData`). */
export interface WorkerConfig {
  trust: WorkerTrustConfig;
}

export type ToWorker =
  /**
   * Verify (or answer from the worker's memory); `known` is the epoch the server thread holds;
   * `look`: look at the files now, ahead of the recheck (remembered trust).
   */
  | { type: 'verify'; id: number; query: TrustQuery; known?: string; look?: boolean }
  | { type: 'facts'; id: number; now: Date };

/** A worker's trust facts: last verification per GUN (ms since the epoch) and failed fetches. */
export interface WorkerFacts {
  verifiedAt: Array<[gun: string, ms: number]>;
  fetchErrors: number;
}

export type FromWorker =
  /**
   * The answer: `epoch` names the repository object (thread and serial number); `repo` is
   * absent when the server thread already holds that epoch. `reuse` is the source's own bound.
   */
  | { type: 'verified'; id: number; epoch: string; repo?: WireRepository; reuse?: TrustReuse }
  | { type: 'failed'; id: number; error: WireError }
  | { type: 'facts'; id: number; facts: WorkerFacts }
  /** Sent once, when the worker's trust source is built: the worker can answer. */
  | { type: 'ready'; id: 0 };

export interface WireError {
  trust: boolean;
  code?: TrustErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export function toWire(e: unknown): WireError {
  if (e instanceof TrustError) return { trust: true, code: e.code, message: e.message, details: e.toJSON() };
  return { trust: false, message: e instanceof Error ? e.message : String(e) };
}

export function fromWire(w: WireError): Error {
  if (!w.trust || w.code === undefined) return new Error(w.message);
  const { code: _c, message: _m, ...details } = w.details ?? {};
  return new TrustError(w.code, w.message, details);
}
