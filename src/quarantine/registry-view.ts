/**
 * The questions a registry asks on every request: may principal P get this manifest, tag list,
 * catalog entry, referrers list or blob? Answers carry a reason and the registry error to send.
 *
 * Implements quarantine.md §1.7, §4 ("Client error on a blocked pull", "Roles / visibility") and Q1, Q2, Q8.
 *
 * @module
 */
import { TrustError } from '../errors.js';
import { step } from './machine.js';
import type { QuarantineConfig } from './schemas.js';
import { isTagEmpty } from './tags.js';
import type { DigestRecord, Principal, QuarantineState, RepositoryState } from './types.js';
import { hasRole, isQuarantineReader } from './principals.js';
import { isVisibleIn } from './visibility-rule.js';

/**
 * The error body a registry should send for a denied request (OCI distribution error codes).
 * With hidden existence it is identical to the answer for content that never existed (Q2).
 *
 * @example
 * ```ts
 * const e: RegistryErrorResponse = { status: 404, code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: undefined };
 * ```
 */
export interface RegistryErrorResponse {
  readonly status: 404 | 403;
  readonly code: 'MANIFEST_UNKNOWN' | 'BLOB_UNKNOWN' | 'DENIED';
  readonly message: string;
  readonly detail: { readonly quarantineState: QuarantineState; readonly digest: string } | undefined;
}

/**
 * Why a request was allowed.
 *
 * @example
 * ```ts
 * const r: AllowReason = 'quarantine-reader';
 * ```
 */
export type AllowReason = 'visible' | 'quarantine-reader' | 'push-capable-head';

/**
 * Why a request was denied.
 *
 * @example
 * ```ts
 * const r: DenyReason = 'not-visible';
 * ```
 */
export type DenyReason = 'unknown' | 'not-visible' | 'tag-hidden' | 'no-visible-referencing-manifest';

/**
 * A denial: the reason (for logs) and the response (for the client).
 *
 * @example
 * ```ts
 * declare const d: Denied;
 * res.status(d.response.status).json({ errors: [d.response] });
 * ```
 */
export interface Denied {
  readonly allowed: false;
  readonly reason: DenyReason;
  readonly response: RegistryErrorResponse;
}

/**
 * The answer to a manifest request.
 *
 * @example
 * ```ts
 * declare const a: ManifestAccess;
 * if (a.allowed) serve(a.digest);
 * ```
 */
export type ManifestAccess = { readonly allowed: true; readonly digest: string; readonly reason: AllowReason } | Denied;

/**
 * The answer to a referrers request.
 *
 * @example
 * ```ts
 * declare const a: ReferrersAccess;
 * if (a.allowed) a.digests.forEach(addToIndex);
 * ```
 */
export type ReferrersAccess = { readonly allowed: true; readonly digests: readonly string[] } | Denied;

/**
 * The answer to a blob request: which referencing manifest made it reachable.
 *
 * @example
 * ```ts
 * declare const a: BlobAccess;
 * a.allowed && a.via; // a manifest digest, or undefined for a push-capable HEAD
 * ```
 */
export type BlobAccess = { readonly allowed: true; readonly via: string | undefined; readonly reason: AllowReason } | Denied;

/**
 * A manifest reference: by tag or by digest.
 *
 * @example
 * ```ts
 * const ref: ManifestRef = { tag: 'v1' };
 * ```
 */
export type ManifestRef = { readonly tag: string } | { readonly digest: string };

/**
 * Read-only queries over one repository at one instant.
 *
 * @example
 * ```ts
 * declare const view: QuarantineView;
 * view.manifest({ id: 'dev', roles: [] }, { tag: 'v1' }).allowed;
 * ```
 */
export interface QuarantineView {
  readonly repository: string;
  readonly now: number;
  /** GET or HEAD of a manifest. Push-capable principals may HEAD non-visible manifests. */
  manifest(principal: Principal, ref: ManifestRef, method?: 'GET' | 'HEAD'): ManifestAccess;
  /** What `tag` resolves to for ordinary principals (Q8): undefined or a visible digest. */
  resolve(tag: string): string | undefined;
  /** The tag list `principal` may see, sorted. */
  tags(principal: Principal): readonly string[];
  /** Whether the repository appears in `principal`'s catalog. */
  inCatalog(principal: Principal): boolean;
  /** Referrers of `subject` that `principal` may see. */
  referrers(principal: Principal, subject: string): ReferrersAccess;
  /** A blob, given the manifests of this repository that reference it. */
  blob(principal: Principal, referencedBy: readonly string[], method?: 'GET' | 'HEAD'): BlobAccess;
  /** Effective visibility of a digest (Q11: an index needs all its children). */
  isVisible(digest: string): boolean;
  /** The record, for quarantine tooling. */
  record(digest: string): DigestRecord | undefined;
}

const UNKNOWN_MANIFEST: RegistryErrorResponse = Object.freeze({
  status: 404,
  code: 'MANIFEST_UNKNOWN',
  message: 'manifest unknown',
  detail: undefined,
});
const UNKNOWN_BLOB: RegistryErrorResponse = Object.freeze({
  status: 404,
  code: 'BLOB_UNKNOWN',
  message: 'blob unknown to registry',
  detail: undefined,
});

/** What every query of one view reads: the repository after the clock, and the visibility rule at `now`. */
interface ViewContext {
  readonly s: RepositoryState;
  readonly now: number;
  readonly config: QuarantineConfig;
  readonly visible: (digest: string) => boolean;
}

/** A principal as the view needs it; anything else is a caller's mistake, reported as such. */
function checkPrincipal(p: unknown): asserts p is Principal {
  if (typeof p !== 'object' || p === null || !Array.isArray((p as { roles?: unknown }).roles)) {
    throw new TrustError('ERR_INVALID_ARGUMENT', 'view: principal must be an object with a roles array');
  }
}

/** A manifest reference: `{ tag }` or `{ digest }` with a string. */
function checkRef(ref: unknown): asserts ref is ManifestRef {
  const r = (typeof ref === 'object' && ref !== null ? ref : {}) as { tag?: unknown; digest?: unknown };
  if (typeof r.tag !== 'string' && typeof r.digest !== 'string') {
    throw new TrustError('ERR_INVALID_ARGUMENT', 'view: a manifest reference is { tag } or { digest }');
  }
}

/** Q2: with hidden existence, principals holding no quarantine or push role learn nothing. */
function existenceHidden(v: ViewContext, p: Principal): boolean {
  return v.config.hideExistence && !hasRole(p, 'push', 'quarantine-reader', 'quarantine-writer', 'overrider');
}

/** A denial: 404 as for absent content, or 403 with the quarantine state (quarantine.md §7.4). */
function deny(v: ViewContext, p: Principal, digest: string, reason: DenyReason): Denied {
  const rec = v.s.records.get(digest);
  if (rec === undefined || rec.deleted || existenceHidden(v, p)) return { allowed: false, reason, response: UNKNOWN_MANIFEST };
  return {
    allowed: false,
    reason,
    response: {
      status: 403,
      code: 'DENIED',
      message: `manifest is not available: quarantine state ${rec.state}`,
      detail: { quarantineState: rec.state, digest },
    },
  };
}

/** What `tag` resolves to for ordinary principals (Q8). */
function resolveTag(v: ViewContext, tag: string): string | undefined {
  const b = v.s.tags.get(tag);
  // Disabled: the newest push wins, as in a plain registry (a binding made while enabled may
  // still have a pending push).
  if (v.config.status === 'disabled') {
    const newest = b?.pending ?? b?.live;
    return newest !== undefined && v.visible(newest.digest) ? newest.digest : undefined;
  }
  if (b?.live === undefined || !v.visible(b.live.digest)) return undefined;
  if (v.config.onUnverifiedRetag === 'hideTag' && b.pending !== undefined) return undefined;
  return b.live.digest;
}

/** A manifest by digest (Q1; quarantine readers by digest, as ACR's AcrQuarantineReader). */
function byDigest(v: ViewContext, p: Principal, digest: string, method: 'GET' | 'HEAD'): ManifestAccess {
  const rec = v.s.records.get(digest);
  if (rec === undefined || rec.deleted) return { allowed: false, reason: 'unknown', response: UNKNOWN_MANIFEST };
  if (v.visible(digest)) return { allowed: true, digest, reason: 'visible' };
  if (isQuarantineReader(p)) return { allowed: true, digest, reason: 'quarantine-reader' };
  if (method === 'HEAD' && hasRole(p, 'push')) return { allowed: true, digest, reason: 'push-capable-head' };
  return deny(v, p, digest, 'not-visible');
}

/** A manifest by tag or digest. */
function manifestAccess(v: ViewContext, p: Principal, ref: ManifestRef, method: 'GET' | 'HEAD'): ManifestAccess {
  if ('digest' in ref) return byDigest(v, p, ref.digest, method);
  const b = v.s.tags.get(ref.tag);
  if (method === 'HEAD' && hasRole(p, 'push')) {
    // A pusher's HEAD-before-PUT sees its newest push, so re-pushing over a blocked tag works.
    const newest = b?.pending?.digest ?? b?.live?.digest;
    const rec = newest === undefined ? undefined : v.s.records.get(newest);
    if (newest !== undefined && rec !== undefined && !rec.deleted) {
      return { allowed: true, digest: newest, reason: v.visible(newest) ? 'visible' : 'push-capable-head' };
    }
  }
  const resolved = resolveTag(v, ref.tag);
  if (resolved !== undefined) return { allowed: true, digest: resolved, reason: 'visible' };
  if (b === undefined || isTagEmpty(b)) return { allowed: false, reason: 'unknown', response: UNKNOWN_MANIFEST };
  const hidden = b.pending?.digest ?? b.live?.digest ?? '';
  return deny(v, p, hidden, 'tag-hidden');
}

function tagList(v: ViewContext, p: Principal): readonly string[] {
  const reader = isQuarantineReader(p);
  const out: string[] = [];
  for (const [name, b] of v.s.tags) {
    if (resolveTag(v, name) !== undefined) out.push(name);
    else if (reader && !isTagEmpty(b)) out.push(name);
  }
  return out.sort();
}

function inCatalog(v: ViewContext, p: Principal): boolean {
  const reader = isQuarantineReader(p);
  for (const rec of v.s.records.values()) {
    if (!rec.deleted && (reader || v.visible(rec.digest))) return true;
  }
  return false;
}

function referrers(v: ViewContext, p: Principal, subject: string): ReferrersAccess {
  const a = byDigest(v, p, subject, 'GET');
  if (!a.allowed) return a;
  const reader = isQuarantineReader(p);
  const digests = [...v.s.records.values()]
    .filter((r) => r.subject === subject && !r.deleted && (reader || v.visible(r.digest)))
    .map((r) => r.digest)
    .sort();
  return { allowed: true, digests };
}

/** Q2: a blob is reachable only through a manifest the principal may get. */
function blobAccess(v: ViewContext, p: Principal, referencedBy: readonly string[], method: 'GET' | 'HEAD'): BlobAccess {
  if (method === 'HEAD' && hasRole(p, 'push')) return { allowed: true, via: undefined, reason: 'push-capable-head' };
  let firstDenied: Denied | undefined;
  for (const m of referencedBy) {
    const a = byDigest(v, p, m, 'GET');
    if (a.allowed) return { allowed: true, via: m, reason: a.reason };
    if (a.reason !== 'unknown') firstDenied ??= a;
  }
  // Q2: with hidden existence a blocked blob answers exactly like an absent one.
  if (firstDenied === undefined || firstDenied.response.status === 404) {
    return { allowed: false, reason: 'no-visible-referencing-manifest', response: UNKNOWN_BLOB };
  }
  return { allowed: false, reason: 'no-visible-referencing-manifest', response: firstDenied.response };
}

/**
 * Builds a view of `state` at `now`. The clock is applied first (without persisting), so a
 * release or waiver that lapsed before `now` is already out of effect (Q18).
 *
 * @example
 * ```ts
 * import { createView } from './registry-view.js';
 * const view = createView(state, Date.now(), parseConfig({ scanners: ['trivy'] }));
 * view.tags({ id: 'dev', roles: [] }); // []
 * ```
 */
export function createView(state: RepositoryState, now: number, config: QuarantineConfig): QuarantineView {
  const s = step(state, { type: 'tick', repository: state.repository }, now, config).state;
  const lookup = (digest: string): DigestRecord | undefined => s.records.get(digest);
  const v: ViewContext = { s, now, config, visible: (digest) => isVisibleIn(lookup, digest, now, config.status) };
  return {
    repository: s.repository,
    now,
    manifest: (p, ref, method = 'GET') => {
      checkPrincipal(p);
      checkRef(ref);
      return manifestAccess(v, p, ref, method);
    },
    resolve: (tag) => resolveTag(v, tag),
    tags: (p) => (checkPrincipal(p), tagList(v, p)),
    inCatalog: (p) => (checkPrincipal(p), inCatalog(v, p)),
    referrers: (p, subject) => (checkPrincipal(p), referrers(v, p, subject)),
    blob: (p, referencedBy, method = 'GET') => {
      checkPrincipal(p);
      if (!Array.isArray(referencedBy)) throw new TrustError('ERR_INVALID_ARGUMENT', 'view: referencedBy must be an array of digests');
      return blobAccess(v, p, referencedBy, method);
    },
    isVisible: v.visible,
    record: lookup,
  };
}
