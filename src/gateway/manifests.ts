/**
 * Manifest GET/HEAD/PUT/DELETE. Reads ask the machine's view which digest, if any, the caller may
 * see, then fetch exactly that digest upstream; a hidden digest answers like an absent one
 * (quarantine.md §4 "Client error on a blocked pull"). Writes are verified, stored upstream BY
 * DIGEST ONLY and then recorded, so tags live in the machine and the upstream never exposes a
 * tag that points at an unscanned digest (issue 15.2).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { isTrustError } from '../errors.js';
import type { Exchange, GatewayContext } from './context.js';
import { ACCEPT_MANIFESTS } from './context.js';
import { digestOf, verifyManifest, MANIFEST_TOO_LARGE, MAX_MANIFEST_BYTES } from './manifest.js';
import type { ManifestFacts } from './manifest.js';
import { referrersIndex } from './referrers.js';
import { DENIED, fromMachineError, MANIFEST_UNKNOWN, sendError } from './respond.js';
import { readBody, relay } from './upstream.js';

type Ref = { readonly tag: string } | { readonly digest: string };

/** `sha256-<hex>`: the OCI referrers fallback tag of a subject (distribution-spec "Referrers Tag Schema"). */
const FALLBACK_TAG = /^sha256-([a-f0-9]{64})$/;

/** GET or HEAD of a manifest by tag or digest. */
export async function getManifest(ctx: GatewayContext, x: Exchange, name: string, ref: Ref): Promise<void> {
  const fallback = 'tag' in ref ? FALLBACK_TAG.exec(ref.tag) : null;
  if (fallback?.[1] !== undefined) return fallbackTag(ctx, x, name, `sha256:${fallback[1]}`);
  const view = await ctx.q.view(name);
  const method = x.req.method === 'HEAD' ? 'HEAD' : 'GET';
  const access = view.manifest(x.caller.principal, ref, method);
  if (!access.allowed) return sendError(x.res, access.response);
  const cached = await ctx.manifests.body(name, access.digest);
  if (cached !== undefined && accepts(x.req.headers.accept, cached.facts.mediaType)) {
    x.res.writeHead(200, {
      'Content-Type': cached.facts.mediaType,
      'Content-Length': String(cached.body.length),
      'Docker-Content-Digest': access.digest,
      ETag: `"${access.digest}"`,
    });
    x.res.end(method === 'HEAD' ? undefined : cached.body);
    return;
  }
  const up = await ctx.upstream.request(method, `/v2/${name}/manifests/${access.digest}`, {
    headers: { accept: x.req.headers.accept ?? ACCEPT_MANIFESTS },
  });
  if (up.statusCode === 404) {
    up.resume();
    return sendError(x.res, MANIFEST_UNKNOWN);
  }
  return relay(up, x.res, { upstreamOrigin: ctx.upstream.origin, self: x.self });
}

/**
 * Whether an `Accept` header names `mediaType` (or any type). Without one, the upstream
 * negotiates as it always has, so the answer is relayed rather than served from the cache.
 */
function accepts(accept: string | undefined, mediaType: string): boolean {
  if (accept === undefined) return false;
  return accept.split(',').some((part) => {
    const t = part.split(';')[0]?.trim().toLowerCase();
    return t === mediaType || t === '*/*';
  });
}

/** The referrers fallback tag, answered from the machine: the visible referrers as an image index. */
async function fallbackTag(ctx: GatewayContext, x: Exchange, name: string, subject: string): Promise<void> {
  const index = await referrersIndex(ctx, x, name, subject, undefined);
  if (!('manifests' in index) || index.manifests.length === 0) return sendError(x.res, MANIFEST_UNKNOWN);
  const body = Buffer.from(JSON.stringify(index));
  x.res.writeHead(200, {
    'Content-Type': index.mediaType,
    'Content-Length': String(body.length),
    'Docker-Content-Digest': digestOf(body),
  });
  x.res.end(x.req.method === 'HEAD' ? undefined : body);
}

/** PUT of a manifest: verify, write upstream by digest, record with the machine. */
export async function putManifest(ctx: GatewayContext, x: Exchange, name: string, ref: Ref): Promise<void> {
  if (!x.caller.roles.has('push')) return sendError(x.res, DENIED);
  const body = await readBody(x.req, MAX_MANIFEST_BYTES);
  if (body === undefined) return sendError(x.res, MANIFEST_TOO_LARGE);
  const facts = verifyManifest(body, x.req.headers['content-type'], ref);
  if ('code' in facts) return sendError(x.res, facts);
  const up = await ctx.upstream.request('PUT', `/v2/${name}/manifests/${facts.digest}`, { headers: { 'content-type': facts.mediaType }, body });
  if (up.statusCode !== 201) return relay(up, x.res, { upstreamOrigin: ctx.upstream.origin, self: x.self });
  up.resume();
  ctx.manifests.remember(name, facts, body);
  const recorded = await record(ctx, x, name, ref, facts);
  if (recorded !== undefined) return sendError(x.res, recorded);
  const headers: Record<string, string> = {
    Location: `${x.self}/v2/${name}/manifests/${facts.digest}`,
    'Docker-Content-Digest': facts.digest,
    'Content-Length': '0',
  };
  if (facts.subject !== undefined) headers['OCI-Subject'] = facts.subject;
  x.res.writeHead(201, headers);
  x.res.end();
}

/**
 * ACR's `request` for the push's webhooks (quarantine.md §1.6): a fresh id (or the client's
 * `X-Request-Id`, when it is a plausible id), the Host the client addressed, the method and the
 * User-Agent, each cut to what the machine's schema allows.
 */
function requestInfo(x: Exchange): { id: string; host: string; method: string; useragent: string } {
  const given = x.req.headers['x-request-id'];
  const id = typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
  return {
    id,
    host: (x.req.headers.host ?? '').slice(0, 255),
    method: x.req.method ?? 'PUT',
    useragent: (x.req.headers['user-agent'] ?? '').slice(0, 1024),
  };
}

/** Records the push (quarantine.md §1.2: Quarantined, generation 1, the `quarantine` event). */
async function record(ctx: GatewayContext, x: Exchange, name: string, ref: Ref, f: ManifestFacts) {
  try {
    await ctx.q.push({
      repository: name,
      digest: f.digest,
      ...('tag' in ref ? { tag: ref.tag } : {}),
      principal: x.caller.principal,
      children: [...f.children],
      ...(f.subject !== undefined ? { subject: f.subject } : {}),
      mediaType: f.mediaType,
      size: f.size,
      request: requestInfo(x),
    });
    return undefined;
  } catch (e) {
    if (!isTrustError(e)) throw e;
    return fromMachineError(e.code, e.message);
  }
}

/**
 * DELETE of a manifest by digest, or of a tag (OCI distribution-spec "Deleting tags" and
 * "Deleting Manifests"), for pushers: the machine's `deleteManifest` / `deleteTag` (quarantine.md
 * §4, audited, needing the `push` role as the machine does). A manifest delete is then forwarded
 * to the upstream by digest, so that its storage can be reclaimed; a tag never reaches the
 * upstream, which holds none (issue 15.2). Anyone else gets the same 403 whatever the digest or
 * tag is, so a DELETE tells an ordinary principal nothing about hidden content.
 */
export async function deleteManifest(ctx: GatewayContext, x: Exchange, name: string, ref: Ref): Promise<void> {
  if (!x.caller.roles.has('push')) return sendError(x.res, DENIED);
  try {
    if ('digest' in ref) await ctx.q.deleteManifest({ repository: name, digest: ref.digest, principal: x.caller.principal });
    else await ctx.q.deleteTag({ repository: name, tag: ref.tag, principal: x.caller.principal });
  } catch (e) {
    if (!isTrustError(e)) throw e;
    return sendError(x.res, fromMachineError(e.code, e.message));
  }
  if ('digest' in ref) await forwardDelete(ctx, `/v2/${name}/manifests/${ref.digest}`);
  x.res.writeHead(202, { 'Content-Length': '0' });
  x.res.end();
}

/**
 * Deletes `path` upstream. The machine has already recorded the delete, so the digest is no
 * longer served whatever the upstream answers; an upstream that refuses (deletes disabled, 405)
 * or cannot be reached keeps bytes nobody can reach through the gateway (README "Deletes").
 */
async function forwardDelete(ctx: GatewayContext, path: string): Promise<void> {
  try {
    (await ctx.upstream.request('DELETE', path)).resume();
  } catch (e) {
    if (!isTrustError(e) || e.code !== 'ERR_GATEWAY_UPSTREAM') throw e;
  }
}
