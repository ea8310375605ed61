/**
 * Event and audit record shapes, and the ACR-compatible webhook payloads.
 *
 * ACR's `quarantine` payload (quarantine.md §1.6) is reproduced field for field; `push` uses the same shape
 * and is emitted only when a digest becomes visible (quarantine.md §1.2, Q21).
 *
 * @module
 */
import { deterministicUuid } from './ids.js';
import type { TrustErrorCode } from '../errors.js';
import type { DigestRecord, EventType, PrincipalKind, QuarantineState } from './types.js';

/**
 * The body of an ACR webhook (`quarantine` or `push` action).
 *
 * @example
 * ```ts
 * const p: AcrWebhookPayload = { id: '…', timestamp: '2026-01-01T00:00:00.000Z', action: 'push',
 *   target: { digest: 'sha256:ab', repository: 'app', tag: 'v1' } };
 * ```
 */
export interface AcrWebhookPayload {
  readonly id: string;
  readonly timestamp: string;
  readonly action: 'quarantine' | 'push';
  readonly target: {
    readonly mediaType?: string;
    readonly size?: number;
    readonly digest: string;
    readonly length?: number;
    readonly repository: string;
    readonly tag?: string;
  };
  /** The push request that generated the event, when the registry gave one (quarantine.md §1.6). */
  readonly request?: AcrRequest;
}

/**
 * ACR's `request` object: the id of the request that generated the event, the externally
 * visible registry host (the request's Host header), its method and its User-Agent.
 *
 * @example
 * ```ts
 * const r: AcrRequest = { id: '7f0c…', host: 'registry.example', method: 'PUT', useragent: 'docker/27.0' };
 * ```
 */
export interface AcrRequest {
  readonly id: string;
  readonly host: string;
  readonly method: string;
  readonly useragent: string;
}

/**
 * One outbox event. `id` is a deterministic UUID of `(repository, digest, sequence)` so that
 * consumers can deduplicate at-least-once deliveries.
 *
 * @example
 * ```ts
 * declare const e: QuarantineEvent;
 * if (e.type === 'push') forward(e.acr);
 * ```
 */
export interface QuarantineEvent {
  readonly id: string;
  readonly type: EventType;
  readonly repository: string;
  readonly digest: string;
  /** Per-digest, strictly increasing, no gaps (Q21). */
  readonly sequence: number;
  readonly generation: number;
  readonly state: QuarantineState;
  readonly from: QuarantineState | undefined;
  /** Epoch milliseconds. */
  readonly at: number;
  readonly tag: string | undefined;
  readonly actor: string | undefined;
  readonly reason: string | undefined;
  /** Present for the ACR-compatible `quarantine` and `push` types. */
  readonly acr: AcrWebhookPayload | undefined;
}

/**
 * An audit record before the store numbers it.
 *
 * @example
 * ```ts
 * declare const a: AuditDraft;
 * a.outcome === 'rejected' && console.warn(a.code, a.reason);
 * ```
 */
export interface AuditDraft {
  readonly at: number;
  readonly actor: string;
  readonly principalKind: PrincipalKind;
  readonly command: string;
  readonly outcome: 'applied' | 'rejected';
  readonly repository: string | undefined;
  readonly digest: string | undefined;
  readonly tag: string | undefined;
  readonly from: QuarantineState | undefined;
  readonly to: QuarantineState | undefined;
  readonly generation: number | undefined;
  readonly policyVersion: string;
  readonly reason: string | undefined;
  readonly code: TrustErrorCode | undefined;
}

/**
 * An audit record as stored: numbered, append-only (Q22).
 *
 * @example
 * ```ts
 * declare const log: readonly AuditEntry[];
 * log.filter((a) => a.outcome === 'rejected');
 * ```
 */
export interface AuditEntry extends AuditDraft {
  readonly seq: number;
}

/** Extra facts attached to an event. */
export interface EventExtras {
  readonly tag?: string | undefined;
  readonly actor?: string | undefined;
  readonly reason?: string | undefined;
  readonly from?: QuarantineState | undefined;
  /** The request of the command behind the event; the record's push request when absent. */
  readonly request?: AcrRequest | undefined;
}

/** `new Date(at).toISOString()`, remembered for the last `at` (one step stamps many events alike). */
let lastAt = Number.NaN;
let lastIso = '';
function isoTime(at: number): string {
  if (at !== lastAt) {
    lastIso = new Date(at).toISOString();
    lastAt = at;
  }
  return lastIso;
}

/**
 * Builds the event numbered `rec.sequence` (the caller has already advanced it).
 *
 * @example
 * ```ts
 * declare const rec: DigestRecord;
 * buildEvent(rec, 'quarantine.passed', Date.now(), {}).sequence === rec.sequence; // true
 * ```
 */
export function buildEvent(rec: DigestRecord, type: EventType, at: number, extras: EventExtras): QuarantineEvent {
  const id = deterministicUuid(`${rec.repository}@${rec.digest}#${rec.sequence}`);
  let acr: AcrWebhookPayload | undefined;
  if (type === 'quarantine' || type === 'push') {
    // A `push` fired by a verdict or the clock carries the request of the push that made the record.
    const request = extras.request ?? rec.request;
    acr = {
      id,
      timestamp: isoTime(at),
      action: type,
      target: {
        ...(rec.mediaType !== undefined ? { mediaType: rec.mediaType } : {}),
        ...(rec.size !== undefined ? { size: rec.size, length: rec.size } : {}),
        digest: rec.digest,
        repository: rec.repository,
        ...(extras.tag !== undefined ? { tag: extras.tag } : {}),
      },
      ...(request !== undefined ? { request } : {}),
    };
  }
  return {
    id,
    type,
    repository: rec.repository,
    digest: rec.digest,
    sequence: rec.sequence,
    generation: rec.generation,
    state: rec.state,
    from: extras.from,
    at,
    tag: extras.tag,
    actor: extras.actor,
    reason: extras.reason,
    acr,
  };
}
