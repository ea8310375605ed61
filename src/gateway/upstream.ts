/**
 * The upstream registry, as the gateway alone talks to it: its own credentials, keep-alive
 * connections, bodies streamed both ways (a blob is piped, never buffered), and the response
 * headers a distribution client relies on relayed with `Location` rewritten to the gateway.
 *
 * @module
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TrustError } from '../errors.js';
import { createRawBlobs } from './raw-blob.js';
import type { RawBlobs } from './raw-blob.js';

/** Request headers passed on to the upstream; `Authorization` never is (the upstream's credentials are the gateway's). */
const REQUEST_HEADERS = ['accept', 'content-type', 'content-length', 'content-range', 'range', 'if-none-match', 'if-match'];
/** Response headers relayed to the client. */
const RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'accept-ranges',
  'docker-content-digest',
  'docker-upload-uuid',
  'etag',
  'last-modified',
  'range',
  'cache-control',
  'oci-subject',
];

/** How the gateway reaches its upstream. */
export interface Upstream {
  readonly origin: string;
  /** Blob GETs at the socket level (raw-blob.ts); undefined for an HTTPS upstream. */
  readonly rawBlobs: RawBlobs | undefined;
  /** Sends a request; `body` is piped. Resolves with the response head (its body not yet read). */
  request(method: string, path: string, options?: { headers?: http.IncomingHttpHeaders; body?: Readable | Buffer }): Promise<IncomingMessage>;
  close(): void;
}

/**
 * An upstream at `url` (`http://127.0.0.1:5000`), with optional basic credentials.
 *
 * @throws {TrustError} `ERR_GATEWAY_CONFIG` for a URL that is not http(s) or has a path.
 */
export function createUpstream(url: string, credentials?: { username: string; password: string }, idleTimeoutMs: number = UPSTREAM_IDLE_MS): Upstream {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new TrustError('ERR_GATEWAY_CONFIG', `--upstream is not a URL: ${url}`, { cause: e });
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || (u.pathname !== '/' && u.pathname !== '')) {
    throw new TrustError('ERR_GATEWAY_CONFIG', `--upstream must be an http(s) origin without a path: ${url}`);
  }
  const lib = u.protocol === 'https:' ? https : http;
  // One keep-alive pool for the gateway's life. Its sockets' 1 MiB highWaterMark (Node's default is
  // 16 KiB) lets a relayed blob's IncomingMessage take whole 64 KiB reads without pausing and
  // resuming the socket after each one (bench/GATEWAY-RESULTS.md).
  // (net.Socket takes highWaterMark from the agent's options; @types/node does not list it.)
  const options: http.AgentOptions & { highWaterMark: number } = { keepAlive: true, maxSockets: 256, highWaterMark: 1024 * 1024 };
  const agent = new lib.Agent(options);
  const auth = credentials === undefined ? undefined : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  const rawBlobs = u.protocol === 'http:' ? createRawBlobs(u.hostname, Number(u.port || 80), u.host, auth) : undefined;
  return {
    origin: u.origin,
    rawBlobs,
    request: (method, path, options = {}) => send({ lib, agent, u, auth, idleTimeoutMs }, method, path, options),
    close: () => {
      agent.destroy();
      rawBlobs?.close();
    },
  };
}

interface Conn {
  readonly lib: typeof http | typeof https;
  readonly agent: http.Agent;
  readonly u: URL;
  readonly auth: string | undefined;
  readonly idleTimeoutMs: number;
}

/**
 * How long an upstream exchange may be silent (no byte either way) before it is cut: an upstream
 * that accepts and never answers, or stalls mid-body, must not hold a client's request and a
 * pooled socket for ever. The raw blob path has the same bound (raw-blob.ts).
 */
export const UPSTREAM_IDLE_MS = 30_000;

function send(c: Conn, method: string, path: string, options: { headers?: http.IncomingHttpHeaders; body?: Readable | Buffer }): Promise<IncomingMessage> {
  const headers: http.OutgoingHttpHeaders = { host: c.u.host };
  for (const h of REQUEST_HEADERS) {
    const v = options.headers?.[h];
    if (v !== undefined) headers[h] = v;
  }
  if (c.auth !== undefined) headers['authorization'] = c.auth;
  // The length goes with the body it describes: a client's Content-Length on a request whose
  // body is not forwarded (a GET, HEAD or DELETE) would leave the upstream waiting for bytes
  // that never come, holding the gateway's request and a pooled socket (found by the gateway fuzz).
  if (options.body === undefined) delete headers['content-length'];
  if (Buffer.isBuffer(options.body)) headers['content-length'] = String(options.body.length);
  return new Promise((resolve, reject) => {
    const req = c.lib.request({ protocol: c.u.protocol, hostname: c.u.hostname, port: c.u.port, path, method, headers, agent: c.agent }, resolve);
    req.on('error', (e) => reject(new TrustError('ERR_GATEWAY_UPSTREAM', `upstream ${method} ${path}: ${e.message}`, { cause: e })));
    // Covers the wait for the head and, on the same socket, the body's pauses (the agent resets
    // the socket's timeout when it takes the socket back into its pool).
    req.setTimeout(c.idleTimeoutMs, () => req.destroy(new Error(`no answer for ${c.idleTimeoutMs} ms`)));
    const body = options.body;
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else pipeline(body, req).catch((e: unknown) => req.destroy(e as Error));
  });
}

/** How much of an oversized request body is read and discarded so that the client gets the error; past it the connection is cut. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/**
 * Reads a body of at most `max` bytes (manifests, JSON); undefined when longer. The rest of an
 * oversized body is drained (up to 64 MiB), so that the sender still reads the error answer.
 */
export async function readBody(stream: Readable, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream) {
    n += (chunk as Buffer).length;
    if (n > DRAIN_LIMIT) {
      stream.destroy();
      return undefined;
    }
    if (n <= max) chunks.push(chunk as Buffer);
  }
  return n > max ? undefined : Buffer.concat(chunks);
}

/**
 * The upstream's `Location` as one on the gateway: a URL on the upstream's origin (or a bare
 * path) becomes the same path on `self`; any other origin (a storage redirect) is left alone.
 */
export function rewriteLocation(location: string, upstreamOrigin: string, self: string): string {
  let u: URL;
  try {
    u = new URL(location, upstreamOrigin);
  } catch {
    return location;
  }
  return u.origin === upstreamOrigin ? `${self}${u.pathname}${u.search}` : location;
}

/**
 * Relays an upstream response: status, the distribution headers (Location rewritten) and the
 * body, streamed with backpressure. `extra` headers override the upstream's.
 */
export async function relay(up: IncomingMessage, res: ServerResponse, ctx: { upstreamOrigin: string; self: string; extra?: Record<string, string> }): Promise<void> {
  const headers: http.OutgoingHttpHeaders = {};
  for (const h of RESPONSE_HEADERS) {
    const v = up.headers[h];
    if (v !== undefined) headers[h] = v;
  }
  const location = up.headers.location;
  if (location !== undefined) headers['location'] = rewriteLocation(location, ctx.upstreamOrigin, ctx.self);
  Object.assign(headers, ctx.extra ?? {});
  res.writeHead(up.statusCode ?? 502, headers);
  if (res.req.method === 'HEAD') {
    up.resume();
    res.end();
    return;
  }
  // pipeline, not pipe: a client that goes away destroys the upstream response too, so its
  // socket is not left paused in the agent.
  await pipeline(up, res);
}
