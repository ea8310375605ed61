/**
 * `createGateway`: an OCI distribution server in front of an upstream registry, gated by the
 * quarantine machine (issue 15). Routing and authentication happen here; each endpoint lives in
 * its own module. The store comes from a factory so that a durable one (PostgreSQL, embedded)
 * replaces the memory store without touching the gateway.
 *
 * @module
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isTrustError } from '../errors.js';
import { createMemoryStore } from '../quarantine/memory-store.js';
import { createQuarantineService } from '../quarantine/service.js';
import type { QuarantineService } from '../quarantine/service.js';
import type { QuarantineStore } from '../quarantine/store.js';
import { acrManifest } from './acr-rest.js';
import { ANONYMOUS_SUBJECT, canRead, createAuthenticator } from './auth.js';
import type { Caller } from './auth.js';
import { deleteBlob, getBlob, upload } from './blobs.js';
import { parseGatewayConfig } from './config.js';
import type { GatewayConfig, GatewayConfigInput } from './config.js';
import { createManifestCache } from './context.js';
import type { Exchange, GatewayContext } from './context.js';
import { listCatalog, listTags } from './listing.js';
import { deleteManifest, getManifest, putManifest } from './manifests.js';
import { getReferrers } from './referrers.js';
import { DENIED, NAME_INVALID, NOT_FOUND, sendError, sendJson } from './respond.js';
import { route } from './routes.js';
import type { Route } from './routes.js';
import { createUpstream } from './upstream.js';
import { createWebhookDispatcher } from './webhooks.js';
import type { WebhookDispatcher } from './webhooks.js';

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** The upstream registry's origin, e.g. `http://127.0.0.1:5000`. */
  readonly upstream: string;
  readonly config: GatewayConfigInput | GatewayConfig;
  /** Where the machine's state lives; default: a new memory store (state is lost on exit). */
  readonly storeFactory?: () => QuarantineStore | Promise<QuarantineStore>;
  /** Epoch milliseconds; default `Date.now`. */
  readonly clock?: () => number;
  /** PEM certificate and key: serve HTTPS. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Webhook retry tuning (tests). */
  readonly webhooks?: { readonly pollMs?: number; readonly backoffMs?: number; readonly timeoutMs?: number };
  /** How long an upstream exchange may be silent before it is cut (502 if nothing was sent yet); default 30 000 ms. */
  readonly upstreamIdleMs?: number;
}

/** A running gateway. */
export interface Gateway {
  readonly server: http.Server;
  readonly service: QuarantineService;
  readonly store: QuarantineStore;
  readonly webhooks: WebhookDispatcher;
  /** Listens on `port` (0: any) at `host`; resolves with the bound port. */
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

const MUTATING = new Set(['PUT', 'POST', 'PATCH', 'DELETE']);

/** Routes a request the caller is authenticated for. */
async function dispatch(ctx: GatewayContext, x: Exchange, r: Route): Promise<void> {
  const method = x.req.method ?? 'GET';
  if (r.kind === 'invalid-name') return sendError(x.res, NAME_INVALID);
  if (r.kind === 'invalid-reference') {
    return sendError(x.res, r.what === 'blob' ? { status: 400, code: 'DIGEST_INVALID', message: 'invalid digest' } : { status: 400, code: 'MANIFEST_INVALID', message: 'invalid reference' });
  }
  if (r.kind === 'acr') return acrManifest(ctx, x, r.name, r.digest);
  if (r.kind === 'upload') return upload(ctx, x, r.name, r.rest);
  if (r.kind === 'manifest' && method === 'PUT') return putManifest(ctx, x, r.name, r.ref);
  if (r.kind === 'manifest' && method === 'DELETE') return deleteManifest(ctx, x, r.name, r.ref);
  if (r.kind === 'blob' && method === 'DELETE') return deleteBlob(ctx, x, r.name, r.digest);
  if (MUTATING.has(method)) return sendError(x.res, { status: 405, code: 'UNSUPPORTED', message: 'method not allowed' });
  if (!canRead(x.caller)) return sendError(x.res, DENIED);
  switch (r.kind) {
    case 'base':
      return sendJson(x.res, 200, {});
    case 'catalog':
      return listCatalog(ctx, x);
    case 'tags':
      return listTags(ctx, x, r.name);
    case 'manifest':
      return getManifest(ctx, x, r.name, r.ref);
    case 'blob':
      return getBlob(ctx, x, r.name, r.digest);
    case 'referrers':
      return getReferrers(ctx, x, r.name, r.digest);
    default:
      return sendError(x.res, NOT_FOUND);
  }
}

/** `GET /token`: basic credentials (or none, for anonymous pull) traded for a short-lived token. */
function issueToken(ctx: GatewayContext, res: ServerResponse, caller: Caller, now: number): void {
  const t = ctx.auth.tokens.issue(caller.name, now);
  sendJson(res, 200, { token: t.token, access_token: t.token, expires_in: t.expiresIn, issued_at: t.issuedAt });
}

/** Authenticates, routes, and turns a failure into a distribution error (or a cut connection once streaming). */
async function handle(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, scheme: string): Promise<void> {
  res.setHeader('Docker-Distribution-Api-Version', 'registry/2.0');
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const self = `${scheme}://${req.headers.host ?? 'localhost'}`;
  const r = route(path);
  const now = ctx.clock();
  const auth = await ctx.auth.authenticate(req.headers.authorization, now, r.kind === 'token');
  // An anonymous puller that writes, or talks to the quarantine REST, is asked for credentials
  // (a 401 with the challenge), since clients send them only when challenged.
  const anonymousWrite = auth.ok && auth.caller.name === ANONYMOUS_SUBJECT && (MUTATING.has(req.method ?? '') || r.kind === 'acr');
  if (!auth.ok || anonymousWrite) {
    req.resume();
    const challenge = r.kind === 'token' ? 'Basic realm="trustgate token"' : ctx.auth.challenge(self, undefined);
    return sendError(res, { status: 401, code: 'UNAUTHORIZED', message: 'authentication required' }, { 'WWW-Authenticate': challenge });
  }
  if (r.kind === 'token') return issueToken(ctx, res, auth.caller, now);
  const x: Exchange = { req, res, caller: auth.caller, self, query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
  await dispatch(ctx, x, r);
  if (MUTATING.has(req.method ?? '')) ctx.events.kick();
}

function onFailure(res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.destroy(e instanceof Error ? e : undefined);
    return;
  }
  if (isTrustError(e) && e.code === 'ERR_GATEWAY_UPSTREAM') {
    sendError(res, { status: 502, code: 'UNSUPPORTED', message: 'upstream registry unavailable' });
    return;
  }
  sendError(res, { status: 500, code: 'UNSUPPORTED', message: 'internal error' });
}

/**
 * Creates a gateway (not yet listening).
 *
 * @throws {TrustError} `ERR_GATEWAY_CONFIG` for an invalid config or upstream URL.
 * @example
 * ```ts
 * const g = await createGateway({ upstream: 'http://127.0.0.1:5000', config });
 * await g.listen(5001, '127.0.0.1');
 * ```
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const config = parseGatewayConfig(options.config);
  const upstream = createUpstream(options.upstream, config.upstream, options.upstreamIdleMs);
  const store = await (options.storeFactory ?? createMemoryStore)();
  const q = createQuarantineService({ store, config: config.quarantine, ...(options.clock ? { clock: options.clock } : {}) });
  const webhooks = createWebhookDispatcher({ store, hooks: config.webhooks, ...options.webhooks });
  const clock = options.clock ?? Date.now;
  const ctx: GatewayContext = { config, q, store, upstream, auth: createAuthenticator(config), manifests: createManifestCache(upstream, store), events: webhooks, clock };
  const scheme = options.tls === undefined ? 'http' : 'https';
  const listener = (req: IncomingMessage, res: ServerResponse) => void handle(ctx, req, res, scheme).catch((e: unknown) => onFailure(res, e));
  // Larger socket buffers: a blob is piped in fewer, bigger writes (issue 15.9 throughput goal).
  const tuning = { highWaterMark: 1024 * 1024 };
  const server = options.tls === undefined ? http.createServer(tuning, listener) : https.createServer({ ...tuning, cert: options.tls.cert, key: options.tls.key }, listener);
  const ticker = setInterval(() => void q.tick().then(() => webhooks.kick(), () => undefined), 30_000);
  ticker.unref();
  return {
    server,
    service: q,
    store,
    webhooks,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    close: () =>
      new Promise((resolve) => {
        clearInterval(ticker);
        webhooks.stop();
        upstream.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
