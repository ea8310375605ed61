/**
 * Kubernetes admission: `AdmissionReview` (`admission.k8s.io/v1`) in, `AdmissionReview` with a
 * response out. Validating: allowed, or a 403 listing every denied image. Mutating: the same
 * decision plus a JSONPatch that pins every allowed image to `name@sha256:…`, so the node pulls
 * exactly the digest that was decided on (as Portieris and Connaisseur do).
 *
 * @module
 */
import { z } from 'zod';
import { TrustError } from '../errors.js';
import type { Principal } from '../quarantine/index.js';
import { checkAdmission, decisionTime, type AdmissionDecision, type AdmissionRequest, type AdmissionSources, type Requester } from './decision.js';
import { parsePolicy, type AdmissionPolicy } from './policy.js';
import { cachedTrustSource } from './trust-source.js';

/** Where the pod spec and the pod template's metadata sit, per workload kind (`group/kind`). */
const POD_SPEC_PATHS: Readonly<Record<string, { spec: readonly string[]; meta: readonly string[] }>> = Object.freeze({
  '/Pod': { spec: ['spec'], meta: ['metadata'] },
  '/ReplicationController': { spec: ['spec', 'template', 'spec'], meta: ['spec', 'template', 'metadata'] },
  'apps/Deployment': { spec: ['spec', 'template', 'spec'], meta: ['spec', 'template', 'metadata'] },
  'apps/StatefulSet': { spec: ['spec', 'template', 'spec'], meta: ['spec', 'template', 'metadata'] },
  'apps/DaemonSet': { spec: ['spec', 'template', 'spec'], meta: ['spec', 'template', 'metadata'] },
  'apps/ReplicaSet': { spec: ['spec', 'template', 'spec'], meta: ['spec', 'template', 'metadata'] },
  'batch/Job': { spec: ['spec', 'template', 'spec'], meta: ['spec', 'template', 'metadata'] },
  'batch/CronJob': {
    spec: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
    meta: ['spec', 'jobTemplate', 'spec', 'template', 'metadata'],
  },
});

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

/** One RFC 6902 operation as this module emits them. */
export interface JsonPatchOperation {
  op: 'replace';
  path: string;
  value: string;
}

/** The `response` of an `AdmissionReview`. */
export interface AdmissionReviewResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  patchType?: 'JSONPatch';
  /** Base64 of the JSON array of operations. */
  patch?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

/** The `AdmissionReview` sent back to the API server. */
export interface AdmissionReviewOut {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionReviewResponse;
}

/** One image found in the object and what was decided for it. */
export interface ImageDecisionRecord {
  /** JSON Pointer of the `image` field, e.g. `/spec/template/spec/containers/0/image`. */
  path: string;
  /** `containers[0] (app)`. */
  container: string;
  image: string;
  decision: AdmissionDecision;
}

export interface AdmissionReviewResult {
  review: AdmissionReviewOut;
  /** Every image checked, in object order (init, regular, ephemeral containers). */
  decisions: ImageDecisionRecord[];
  /** On UPDATE: containers whose image is the same as in `oldObject`, neither judged nor patched. */
  unchanged: Array<{ path: string; container: string; image: string }>;
  /** The JSONPatch (also base64-encoded in `review.response.patch` when mutating). */
  patch: JsonPatchOperation[];
  /** Facts about the request for logs. */
  request: { uid: string; kind: string; namespace: string | null; name: string | null; operation: string | null; user: string | null };
}

/** The fields of an AdmissionRequest this module reads. */
export interface AdmissionReviewRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation?: string;
  userInfo?: { username?: string; groups?: string[] };
  object?: unknown;
  /** The object before an UPDATE. */
  oldObject?: unknown;
}

export interface HandleAdmissionReviewOptions {
  policy: AdmissionPolicy | unknown;
  sources: AdmissionSources;
  /** Emit a JSONPatch pinning allowed images to their digests (the `/mutate` endpoint). */
  mutate?: boolean;
  /** The decision time for every image of the review (default: the current time, read once). */
  now?: Date;
  /** Who the quarantine check is for; default: `{ id: userInfo.username, roles: [] }`. */
  principalFor?: (request: AdmissionReviewRequest) => Principal;
}

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(message: string): TrustError {
  return new TrustError('ERR_INVALID_ARGUMENT', message, { check: 'admission review' });
}

function at(root: unknown, path: readonly string[]): unknown {
  let cur = root;
  for (const k of path) {
    if (!isObject(cur) || !Object.hasOwn(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Parses and checks the envelope. Accepts the JSON text, its bytes, or the parsed value.
 *
 * @throws {TrustError} `ERR_INVALID_ARGUMENT` when it is not an `admission.k8s.io/v1` AdmissionReview with a request uid
 */
export function parseAdmissionReview(input: unknown): AdmissionReviewRequest {
  let value = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
    } catch (e) {
      throw bad(`AdmissionReview is not JSON: ${(e as Error).message}`);
    }
  }
  if (!isObject(value) || value['apiVersion'] !== 'admission.k8s.io/v1' || value['kind'] !== 'AdmissionReview') {
    throw bad('expected an AdmissionReview of apiVersion admission.k8s.io/v1');
  }
  const request = value['request'];
  if (!isObject(request) || typeof request['uid'] !== 'string' || request['uid'] === '') throw bad('AdmissionReview.request.uid is missing');
  const fields = REQUEST_FIELDS.safeParse(request);
  if (!fields.success) {
    const issue = fields.error.issues[0];
    throw bad(`AdmissionReview.request.${issue?.path.join('.') ?? ''} is not what the API server sends: ${issue?.message ?? 'invalid'}`);
  }
  return request as unknown as AdmissionReviewRequest;
}

/**
 * The request fields that decide whether and how a review is judged, typed as the API server
 * sends them. A `kind.group` of `false` must not read as the group "false" (an unknown kind,
 * allowed untouched) when it could as well be the core group's Pod: such a review is refused.
 */
const REQUEST_FIELDS = z.object({
  kind: z.object({ group: z.string().optional(), version: z.string().optional(), kind: z.string() }),
  subResource: z.string().optional(),
  operation: z.string(),
  name: z.string().optional(),
  namespace: z.string().optional(),
});

function annotationsOf(object: unknown, metaPath: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of [['metadata', 'annotations'], [...metaPath, 'annotations']]) {
    const a = at(object, p);
    if (!isObject(a)) continue;
    for (const [k, v] of Object.entries(a)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/**
 * Text the API server passes on: control characters (C0, DEL, C1) and the Unicode line and
 * paragraph separators become one space each run. The API server drops a warning that holds any
 * of them without a word, so a multi-line break-glass justification would hide the warning.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
}

/** At most `n` characters (code points, so a surrogate pair is never split), with `…` when cut. */
function truncate(s: string, n: number): string {
  const chars = [...s];
  return chars.length <= n ? s : `${chars.slice(0, n - 1).join('')}…`;
}

/** Warnings are shown to people in kubectl: kept to 120 characters (the API server's hard limit is 256 per warning). */
export const WARNING_MAX_CHARS = 120;

const warning = (text: string) => truncate(printable(text), WARNING_MAX_CHARS);

/**
 * The sources with `trust.verify` memoised for the duration of one review (one verification per
 * repository and pins). Anything that is not a usable TrustSource is passed through for
 * `checkAdmission` to reject.
 */
function withTrustCache(sources: AdmissionSources): AdmissionSources {
  const trust = typeof sources === 'object' && sources !== null ? sources.trust : undefined;
  if (typeof trust?.verify !== 'function') return sources;
  const cached = cachedTrustSource(trust);
  return sources.quarantine === undefined ? { trust: cached } : { trust: cached, quarantine: sources.quarantine };
}

type Layout = { spec: readonly string[]; meta: readonly string[] };
type FoundImage = { path: string; container: string; image: string; key: string };

/** `userInfo` as the decision's requester; anything but a string username is no requester. */
function requesterOf(req: AdmissionReviewRequest): Requester | undefined {
  const u = isObject(req.userInfo) ? req.userInfo : undefined;
  if (typeof u?.username !== 'string' || u.username === '') return undefined;
  const groups = Array.isArray(u.groups) ? u.groups.filter((g): g is string => typeof g === 'string') : [];
  return { username: u.username, groups };
}

function requestInfo(req: AdmissionReviewRequest, kind: string): AdmissionReviewResult['request'] {
  const metaName = at(req.object, ['metadata', 'name']);
  return {
    uid: req.uid,
    kind,
    namespace: req.namespace ?? null,
    name: req.name ?? (typeof metaName === 'string' ? metaName : null),
    operation: req.operation ?? null,
    user: req.userInfo?.username ?? null,
  };
}

/** The pod spec layout when the request is one this webhook decides on, else undefined (allowed untouched). */
function podLayout(req: AdmissionReviewRequest, kind: string): Layout | undefined {
  const layout = POD_SPEC_PATHS[kind];
  const subOk = req.subResource === undefined || req.subResource === '' || (kind === '/Pod' && req.subResource === 'ephemeralcontainers');
  if (layout === undefined || !subOk || (req.operation !== 'CREATE' && req.operation !== 'UPDATE') || !isObject(req.object)) return undefined;
  return isObject(at(req.object, layout.spec)) ? layout : undefined;
}

/** Every container image of the pod spec, in object order (init, regular, ephemeral). */
function findImages(spec: JsonObject, layout: Layout): FoundImage[] {
  const found: FoundImage[] = [];
  for (const list of CONTAINER_LISTS) {
    const containers = spec[list];
    if (!Array.isArray(containers)) continue;
    containers.forEach((c: unknown, i) => {
      if (!isObject(c) || typeof c['image'] !== 'string') return;
      const name = typeof c['name'] === 'string' ? ` (${c['name']})` : '';
      found.push({
        path: `/${[...layout.spec, list, String(i), 'image'].map(escapePointer).join('/')}`,
        container: `${list}[${i}]${name}`,
        image: c['image'],
        // A container is the same container across an UPDATE by its list and name (index if unnamed).
        key: `${list}\u0000${typeof c['name'] === 'string' ? `n:${c['name']}` : `i:${i}`}\u0000${c['image']}`,
      });
    });
  }
  return found;
}

/**
 * On UPDATE, the images that are not new: a container of `oldObject` with the same list, name and
 * image string. Such a container is already running (or templated) with that image; judging it
 * again would deny a label or finalizer change once its trust data expires, and pinning it would
 * change its image, which makes the kubelet restart it.
 */
function splitUnchanged(req: AdmissionReviewRequest, layout: Layout, found: FoundImage[]): { changed: FoundImage[]; unchanged: FoundImage[] } {
  const oldSpec = req.operation === 'UPDATE' ? at(req.oldObject, layout.spec) : undefined;
  if (!isObject(oldSpec)) return { changed: found, unchanged: [] };
  const before = new Set(findImages(oldSpec, layout).map((f) => f.key));
  return { changed: found.filter((f) => !before.has(f.key)), unchanged: found.filter((f) => before.has(f.key)) };
}

/**
 * One decision per distinct image string, all at the review's one instant, and one verification
 * per repository and pins (`acme/hub` and `docker.io/acme/hub:v1` name the same trust data).
 */
async function decideImages(found: readonly FoundImage[], policy: AdmissionPolicy, opts: HandleAdmissionReviewOptions, req: AdmissionReviewRequest, annotations: Record<string, string>): Promise<ImageDecisionRecord[]> {
  const principal: Principal = opts.principalFor ? opts.principalFor(req) : { id: req.userInfo?.username ?? 'anonymous', roles: [] };
  const requester = requesterOf(req);
  const now = decisionTime(opts.now);
  const sources = withTrustCache(opts.sources);
  const decide = (r: AdmissionRequest) => checkAdmission(r, policy, sources);
  const cache = new Map<string, Promise<AdmissionDecision>>();
  const decisions: ImageDecisionRecord[] = [];
  for (const f of found) {
    let p = cache.get(f.image);
    if (p === undefined) {
      p = decide({ image: f.image, principal, annotations, now, ...(requester ? { requester } : {}) });
      cache.set(f.image, p);
    }
    decisions.push({ path: f.path, container: f.container, image: f.image, decision: await p });
  }
  return decisions;
}

/** Allowed, or 403 listing every denied image with its code; dry-run and break-glass become warnings and audit annotations. */
function reviewResponse(uid: string, decisions: readonly ImageDecisionRecord[]): AdmissionReviewResponse {
  const denied = decisions.flatMap((d) => (d.decision.allowed ? [] : [{ ...d, decision: d.decision }]));
  const response: AdmissionReviewResponse = { uid, allowed: denied.length === 0 };
  if (denied.length > 0) {
    const lines = denied.map((d) => `${d.container} ${d.image}: ${d.decision.code}: ${d.decision.reason}`);
    response.status = { code: 403, reason: 'Forbidden', message: printable(`trustgate denied ${denied.length} image(s): ${lines.join('; ')}`) };
  }
  const warnings: string[] = [];
  const audit: Record<string, string> = {};
  for (const d of decisions) {
    const dec = d.decision;
    if (!dec.allowed || dec.wouldDeny === undefined) continue;
    if (dec.breakGlass) {
      const by = dec.breakGlass.by ?? 'unknown';
      warnings.push(warning(`trustgate break-glass by ${by}: ${d.container} ${d.image} despite ${dec.wouldDeny.code}: ${dec.breakGlass.reason}`));
      audit['trustgate-break-glass'] = truncate(printable(`${dec.breakGlass.annotation}=${dec.breakGlass.reason}`), 1000);
      audit['trustgate-break-glass-by'] = truncate(printable(by), 1000);
    } else {
      warnings.push(warning(`trustgate dry-run: would deny ${d.container} ${d.image}: ${dec.wouldDeny.code}: ${dec.wouldDeny.reason}`));
      audit['trustgate-dry-run'] = 'would-deny';
    }
  }
  if (warnings.length > 0) response.warnings = warnings;
  if (Object.keys(audit).length > 0) response.auditAnnotations = audit;
  return response;
}

/** The JSONPatch pinning each allowed tagged image to `name@sha256:…`. */
function pinPatch(decisions: readonly ImageDecisionRecord[]): JsonPatchOperation[] {
  const patch: JsonPatchOperation[] = [];
  for (const d of decisions) {
    const dec = d.decision;
    if (!dec.allowed || dec.digest === null || dec.gun === null) continue;
    // Already `name@sha256:…` (no tag): the decision refuses any digest but the one named.
    if (dec.tag === null) continue;
    patch.push({ op: 'replace', path: d.path, value: `${dec.gun}@${dec.digest}` });
  }
  return patch;
}

const reviewOut = (response: AdmissionReviewResponse): AdmissionReviewOut => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });

/**
 * Answers one AdmissionReview.
 *
 * Pods (containers, initContainers, ephemeralContainers, including the `ephemeralcontainers`
 * subresource) and the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets,
 * ReplicationControllers, Jobs and CronJobs are checked on CREATE and UPDATE. Other kinds,
 * other subresources and other operations are allowed untouched.
 *
 * @example
 * ```ts
 * const { review } = await handleAdmissionReview(body, { policy, sources, mutate: true });
 * res.end(JSON.stringify(review));
 * ```
 * @throws {TrustError} `ERR_INVALID_ARGUMENT` for a malformed review; `ERR_POLICY_INVALID` for a bad policy
 */
export async function handleAdmissionReview(reviewJson: unknown, opts: HandleAdmissionReviewOptions): Promise<AdmissionReviewResult> {
  const policy = parsePolicy(opts.policy);
  const req = parseAdmissionReview(reviewJson);
  const kind = `${req.kind?.group ?? ''}/${req.kind?.kind ?? ''}`;
  const info = requestInfo(req, kind);
  const layout = podLayout(req, kind);
  if (layout === undefined) return { review: reviewOut({ uid: req.uid, allowed: true }), decisions: [], unchanged: [], patch: [], request: info };

  const { changed, unchanged } = splitUnchanged(req, layout, findImages(at(req.object, layout.spec) as JsonObject, layout));
  const decisions = await decideImages(changed, policy, opts, req, annotationsOf(req.object, layout.meta));
  const response = reviewResponse(req.uid, decisions);
  const patch = opts.mutate && response.allowed ? pinPatch(decisions) : [];
  if (patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(patch), 'utf8').toString('base64');
  }
  const same = unchanged.map(({ path, container, image }) => ({ path, container, image }));
  return { review: reviewOut(response), decisions, unchanged: same, patch, request: info };
}
