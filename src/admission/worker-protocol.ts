/**
 * What the verifier pool and its workers say to each other (src/admission/pool.ts,
 * src/admission/worker.ts). Everything crosses `postMessage` as structured-clone data: a
 * decision's `TrustError` travels as its JSON form and is rebuilt on the other side.
 *
 * @module
 */
import { TrustError, type TrustErrorCode } from '../errors.js';
import type { AdmissionAllowed, AdmissionDecision, AdmissionDenied, AdmissionRequest } from './decision.js';
import type { OnlineTrustOptions } from './online-trust.js';
import type { HttpQuarantineReaderOptions } from './quarantine-http.js';
import type { RememberedTrustOptions } from './remembered-trust.js';

/** Where a worker's trust data comes from. */
export type WorkerTrustConfig = ({ kind: 'trust-dir' } & RememberedTrustOptions) | ({ kind: 'online' } & OnlineTrustOptions);

/** What each worker is started with (`workerData`). */
export interface WorkerConfig {
  /** The policy as written (`AdmissionPolicy.source`); each worker validates it again. */
  policy: unknown;
  trust: WorkerTrustConfig;
  /** Without `repositoryFor`: functions do not cross threads. */
  quarantine?: Omit<HttpQuarantineReaderOptions, 'repositoryFor'>;
}

export type ToWorker =
  | { type: 'decide'; id: number; request: AdmissionRequest }
  | { type: 'policy'; policy: unknown }
  | { type: 'facts'; id: number; now: Date };

/** A worker's trust facts: last verification per GUN (ms) and failed fetches. */
export interface WorkerFacts {
  verifiedAt: Array<[gun: string, ms: number]>;
  fetchErrors: number;
}

export type FromWorker =
  | { type: 'decision'; id: number; decision: WireDecision }
  | { type: 'failed'; id: number; error: WireError }
  | { type: 'facts'; id: number; facts: WorkerFacts };

export interface WireError {
  trust: boolean;
  code?: TrustErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** A decision with its error as JSON. */
export type WireDecision = AdmissionAllowed | (Omit<AdmissionDenied, 'error'> & { error: WireError });

export function toWire(e: unknown): WireError {
  if (e instanceof TrustError) return { trust: true, code: e.code, message: e.message, details: e.toJSON() };
  return { trust: false, message: e instanceof Error ? e.message : String(e) };
}

export function fromWire(w: WireError): Error {
  if (!w.trust || w.code === undefined) return new Error(w.message);
  const { code: _c, message: _m, ...details } = w.details ?? {};
  return new TrustError(w.code, w.message, details);
}

export function decisionToWire(d: AdmissionDecision): WireDecision {
  return d.allowed ? d : { ...d, error: toWire(d.error) };
}

export function decisionFromWire(d: WireDecision): AdmissionDecision {
  if (d.allowed) return d;
  return { ...d, error: fromWire(d.error) as TrustError };
}
