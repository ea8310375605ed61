/**
 * ACR's quarantine REST on the gateway (quarantine.md §1.5): `PATCH /acr/v1/<repo>/_manifests/<digest>`
 * sets a scanner's verdict through {@link acrPatchToVerdict} (with `If-Match` generation and
 * `Idempotency-Key`), and `GET` returns the attributes and ETag from {@link acrAttributes}.
 *
 * @module
 */
import { isTrustError } from '../errors.js';
import { acrAttributes } from '../quarantine/acr.js';
import type { Exchange, GatewayContext } from './context.js';
import { DENIED, fromMachineError, MANIFEST_UNKNOWN, sendError, sendJson } from './respond.js';
import { readBody } from './upstream.js';

/** ACR bounds `quarantineDetails` at 64 KiB; the body around it gets a little more. */
const MAX_PATCH_BYTES = 80 * 1024;

const header = (x: Exchange, name: string): string | undefined => {
  const v = x.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** The attributes document of one digest. */
async function attributes(ctx: GatewayContext, x: Exchange, name: string, digest: string): Promise<void> {
  const rec = (await ctx.q.view(name)).record(digest);
  if (rec === undefined || rec.deleted) return sendError(x.res, MANIFEST_UNKNOWN);
  const a = acrAttributes(rec);
  sendJson(
    x.res,
    200,
    {
      registry: x.req.headers.host ?? '',
      imageName: name,
      manifest: { digest, changeableAttributes: { quarantineState: a.quarantineState, quarantineDetails: a.quarantineDetails } },
    },
    { ETag: a.etag },
  );
}

/** A PATCH: the body parsed (malformed JSON is refused like an invalid body), then the machine's verdict. */
async function patch(ctx: GatewayContext, x: Exchange, name: string, digest: string): Promise<void> {
  const raw = await readBody(x.req, MAX_PATCH_BYTES);
  let body: unknown;
  try {
    body = raw === undefined ? undefined : JSON.parse(raw.toString('utf8'));
  } catch {
    body = undefined;
  }
  try {
    await ctx.q.acrPatch({
      repository: name,
      digest,
      body,
      ifMatch: header(x, 'if-match'),
      idempotencyKey: header(x, 'idempotency-key'),
      principal: x.caller.principal,
      scannerId: x.caller.scannerId,
    });
  } catch (e) {
    if (!isTrustError(e)) throw e;
    return sendError(x.res, fromMachineError(e.code, e.message));
  }
  return attributes(ctx, x, name, digest);
}

/** `GET`/`PATCH /acr/v1/<repo>/_manifests/<digest>`, for quarantine readers and writers only. */
export async function acrManifest(ctx: GatewayContext, x: Exchange, name: string, digest: string): Promise<void> {
  const { roles } = x.caller;
  if (x.req.method === 'PATCH') return roles.has('quarantine-writer') ? patch(ctx, x, name, digest) : sendError(x.res, DENIED);
  if (x.req.method === 'GET' || x.req.method === 'HEAD') {
    return roles.has('quarantine-reader') || roles.has('quarantine-writer') ? attributes(ctx, x, name, digest) : sendError(x.res, DENIED);
  }
  return sendError(x.res, { status: 405, code: 'UNSUPPORTED', message: 'method not allowed' });
}
