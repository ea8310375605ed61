/**
 * Blob GET/HEAD and uploads. A blob is served only when a manifest the caller may get references
 * it, as the machine's view decides (quarantine.md §4 "★ no leak via blobs"); the bytes are piped
 * from the upstream, `Range` included. Uploads and cross-repository mounts pass through for
 * pushers only, and a mount from a repository whose blob the pusher could not pull becomes a
 * plain upload (202), as distribution answers for a blob it does not have.
 *
 * @module
 */
import type { Exchange, GatewayContext } from './context.js';
import { BLOB_UNKNOWN, DENIED, sendError } from './respond.js';
import { relay } from './upstream.js';
import { repositorySchema, digestSchema } from '../quarantine/schemas.js';

/** A Range header the raw relay passes on as is (anything else takes the node:http path). */
const RANGE = /^bytes=[0-9, -]{1,256}$/;

/** Whether `caller` may read `digest` in `repository` as a blob. */
async function blobAllowed(ctx: GatewayContext, x: Exchange, repository: string, digest: string, method: 'GET' | 'HEAD'): Promise<boolean> {
  const view = await ctx.q.view(repository);
  const referencedBy = await ctx.manifests.referencing(repository, digest);
  return view.blob(x.caller.principal, referencedBy, method).allowed;
}

/** GET or HEAD of a blob. */
export async function getBlob(ctx: GatewayContext, x: Exchange, name: string, digest: string): Promise<void> {
  const method = x.req.method === 'HEAD' ? 'HEAD' : 'GET';
  if (!(await blobAllowed(ctx, x, name, digest, method))) return sendError(x.res, BLOB_UNKNOWN);
  const range = x.req.headers.range;
  const raw = ctx.upstream.rawBlobs;
  if (method === 'GET' && raw !== undefined && (range === undefined || RANGE.test(range))) {
    // The allowed bytes go socket to socket; anything but a plain 200/206 comes back for node:http.
    if ((await raw.get(`/v2/${name}/blobs/${digest}`, range, x.res)) === 'relayed') return;
  }
  const up = await ctx.upstream.request(method, `/v2/${name}/blobs/${digest}`, { headers: x.req.headers });
  if (up.statusCode === 404) {
    up.resume();
    return sendError(x.res, BLOB_UNKNOWN);
  }
  return relay(up, x.res, { upstreamOrigin: ctx.upstream.origin, self: x.self });
}

/**
 * DELETE of a blob, passed through for pushers (distribution's answer relayed: 202, 404
 * BLOB_UNKNOWN, or 405 when the upstream does not allow deletes). The machine keeps no blob
 * records, so there is nothing to record; anyone else gets 403 whatever the digest.
 */
export async function deleteBlob(ctx: GatewayContext, x: Exchange, name: string, digest: string): Promise<void> {
  if (!x.caller.roles.has('push')) return sendError(x.res, DENIED);
  const up = await ctx.upstream.request('DELETE', `/v2/${name}/blobs/${digest}`);
  return relay(up, x.res, { upstreamOrigin: ctx.upstream.origin, self: x.self });
}

/** The query to send upstream for an upload start: a mount only when the pusher may read the source blob. */
async function uploadQuery(ctx: GatewayContext, x: Exchange): Promise<URLSearchParams> {
  const q = new URLSearchParams(x.query);
  const mount = q.get('mount');
  const from = q.get('from');
  if (mount === null) return q;
  q.delete('mount');
  q.delete('from');
  const valid = from !== null && repositorySchema.safeParse(from).success && digestSchema.safeParse(mount).success;
  if (valid && (await blobAllowed(ctx, x, from, mount, 'GET'))) {
    q.set('mount', mount);
    q.set('from', from);
  }
  return q;
}

/** POST/PATCH/PUT/GET/DELETE under `/v2/<name>/blobs/uploads/`, streamed to the upstream. */
export async function upload(ctx: GatewayContext, x: Exchange, name: string, rest: string): Promise<void> {
  if (!x.caller.roles.has('push')) return sendError(x.res, DENIED);
  const q = x.req.method === 'POST' && rest === '' ? await uploadQuery(ctx, x) : x.query;
  const search = q.toString();
  const path = `/v2/${name}/blobs/uploads/${rest}${search === '' ? '' : `?${search}`}`;
  const hasBody = x.req.method === 'PATCH' || x.req.method === 'PUT' || x.req.method === 'POST';
  const up = await ctx.upstream.request(x.req.method ?? 'GET', path, { headers: x.req.headers, ...(hasBody ? { body: x.req } : {}) });
  return relay(up, x.res, { upstreamOrigin: ctx.upstream.origin, self: x.self });
}
