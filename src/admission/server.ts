/**
 * The admission webhook server: node:https with `POST /validate`, `POST /mutate`, `GET /healthz`
 * (alive), `GET /readyz` (ready to decide) and `GET /metrics` (Prometheus), a request size limit,
 * a per-request timeout, one structured (JSON) log line per image decision, policy and
 * certificate reload, and draining.
 *
 * @module
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isTrustError } from '../errors.js';
import { decisionTime, type AdmissionSources } from './decision.js';
import { handleAdmissionReview, type AdmissionReviewResult, type HandleAdmissionReviewOptions } from './kubernetes.js';
import { createAdmissionMetrics, type AdmissionMetrics, type TrustFacts } from './metrics.js';
import { parsePolicy, type AdmissionPolicy } from './policy.js';

/** Default limits. */
export const ADMISSION_SERVER_DEFAULTS = Object.freeze({
  /**
   * Largest request body accepted, in bytes: an UPDATE carries `object` and `oldObject`, each up
   * to etcd's 1.5 MiB request limit, JSON-escaped, plus the envelope.
   */
  maxBodyBytes: 7 * 1024 * 1024,
  /** Time allowed for reading the request and deciding, in milliseconds (the API server's default webhook timeout is 10 s). */
  timeoutMs: 9_000,
  /**
   * How long an idle keep-alive connection stays open: above the 90 s the API server's Go client
   * keeps idle connections, so the server never closes one the client is about to reuse.
   */
  keepAliveTimeoutMs: 120_000,
  /**
   * Time from a request's first byte to its last header line. Node 20 starts this clock per
   * request, not at the end of the previous one, so it can stay far below the keep-alive timeout
   * and still close a connection that trickles its headers.
   */
  headersTimeoutMs: 5_000,
  /** A TLS connection must finish its handshake within this, in milliseconds. */
  handshakeTimeoutMs: 5_000,
});

export interface AdmissionServerOptions {
  policy: AdmissionPolicy | unknown;
  sources: AdmissionSources;
  /** PEM certificate chain and private key. */
  tls: { cert: string | Buffer; key: string | Buffer };
  maxBodyBytes?: number;
  timeoutMs?: number;
  keepAliveTimeoutMs?: number;
  headersTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /** Receives one object per log line (default: JSON on stdout). */
  log?: (entry: Record<string, unknown>) => void;
  /** The decision time per request (default: the current time). */
  clock?: () => Date;
  principalFor?: HandleAdmissionReviewOptions['principalFor'];
  /**
   * Metrics for `GET /metrics` (default: a fresh set, fed by the trust source when it reports
   * facts). With a worker pool: `createAdmissionMetrics(pool)`, so a scrape asks the workers.
   */
  metrics?: AdmissionMetrics;
  /** Why the server is not ready yet (`GET /readyz` answers 503 with it), or undefined when it is. */
  readiness?: () => string | undefined;
}

/** The webhook server: an https.Server that can swap its policy and certificate, and drain. */
export interface AdmissionServer extends Server {
  readonly metrics: AdmissionMetrics;
  /**
   * Takes a new policy and/or certificate for the requests that arrive from now on; requests in
   * flight finish under what they started with. A bad policy throws and changes nothing.
   *
   * @throws {TrustError} `ERR_POLICY_INVALID`
   */
  reload(update: { policy?: AdmissionPolicy | unknown; tls?: { cert: string | Buffer; key: string | Buffer } }): void;
  /**
   * Stops taking connections, answers `/readyz` with 503, lets reviews in flight finish, and
   * closes whatever is still open after `graceMs`. Resolves once the server is closed.
   */
  drain(graceMs: number): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      reject(new HttpError(413, `request body larger than ${max} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, `request body larger than ${max} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(status >= 400 ? { connection: 'close' } : {}),
  });
  res.end(text);
}

/**
 * JSON lines on stdout, written once per turn of the event loop: under load a turn answers many
 * reviews, and one write per line is one system call (and one wake-up of whatever reads the
 * pipe) per decision. Lines are never dropped; what is still buffered when the process exits is
 * written then.
 */
function batchedStdoutLog(): (entry: Record<string, unknown>) => void {
  let lines: string[] = [];
  const flush = () => {
    if (lines.length === 0) return;
    const text = lines.join('');
    lines = [];
    process.stdout.write(text);
  };
  process.once('exit', flush);
  return (entry) => {
    if (lines.length === 0) setImmediate(flush);
    lines.push(`${JSON.stringify(entry)}\n`);
  };
}

let stdoutLog: ((entry: Record<string, unknown>) => void) | undefined;
const defaultLog = (entry: Record<string, unknown>) => (stdoutLog ??= batchedStdoutLog())(entry);

type Endpoint = 'validate' | 'mutate';

/**
 * True for `application/json`, with or without parameters (`; charset=utf-8`), in any case: what
 * the API server sends. Other types — `application/json-patch+json`, `application/json-seq` — are
 * not an AdmissionReview and get 415.
 */
export function isJson(contentType: string | undefined): boolean {
  const essence = (contentType ?? '').split(';', 1)[0] as string;
  return essence.trim().toLowerCase() === 'application/json';
}

/** `/healthz` (the process answers), `/readyz` (ready to decide) and `/metrics`; false for any other path. */
function plainEndpoint(req: IncomingMessage, res: ServerResponse, path: string, s: Settings): boolean {
  if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'method not allowed\n');
  } else if (path === '/healthz') {
    send(res, 200, 'ok\n');
  } else if (path === '/readyz') {
    const why = s.draining ? 'draining' : s.readiness();
    send(res, why === undefined ? 200 : 503, why === undefined ? 'ok\n' : `not ready: ${why}\n`);
  } else {
    s.metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': s.metrics.registry.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
      () => send(res, 500, 'metrics failed\n'),
    );
  }
  return true;
}

/** Routes a request: the admission endpoint to run, or the plain answer already sent. */
function route(req: IncomingMessage, res: ServerResponse, s: Settings): Endpoint | undefined {
  // The path without the query (the API server sends `/validate?timeout=10s`); no URL object per request.
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (plainEndpoint(req, res, path, s)) return undefined;
  const endpoint = path === '/validate' ? 'validate' : path === '/mutate' ? 'mutate' : undefined;
  if (endpoint === undefined) send(res, 404, 'not found\n');
  else if (req.method !== 'POST') send(res, 405, 'method not allowed\n');
  else if (!isJson(req.headers['content-type'])) send(res, 415, 'content-type must be application/json\n');
  else return endpoint;
  return undefined;
}

/** One log line per image decision of a review. */
function logDecisions(log: (entry: Record<string, unknown>) => void, endpoint: Endpoint, result: AdmissionReviewResult, started: number): void {
  const r = result.request;
  for (const d of result.decisions) {
    const dec = d.decision;
    log({
      time: new Date().toISOString(),
      msg: 'admission decision',
      endpoint,
      uid: r.uid,
      kind: r.kind,
      namespace: r.namespace,
      name: r.name,
      operation: r.operation,
      user: r.user,
      container: d.container,
      image: d.image,
      allowed: dec.allowed,
      ...(dec.allowed ? {} : { code: dec.code, reason: dec.reason }),
      digest: dec.digest,
      rule: dec.rule,
      mode: dec.mode,
      ...(dec.allowed && dec.wouldDeny ? { wouldDeny: dec.wouldDeny } : {}),
      ...(dec.allowed && dec.breakGlass ? { breakGlass: dec.breakGlass } : {}),
      ms: Date.now() - started,
    });
  }
}

/** Resolves with `work`, or rejects with 503 once `timeoutMs` has passed. */
async function withinTime<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HttpError(503, `no decision within ${timeoutMs} ms`)), timeoutMs);
  });
  work.catch(() => undefined); // a late failure after the timeout answered must not go unhandled
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Settings {
  /** Replaced whole by `reload`: a request reads it once, when it starts. */
  policy: AdmissionPolicy;
  maxBodyBytes: number;
  timeoutMs: number;
  log: (entry: Record<string, unknown>) => void;
  clock: () => Date;
  metrics: AdmissionMetrics;
  readiness: () => string | undefined;
  draining: boolean;
}

/** Answers one admission request: read the body, decide at the clock's instant, log, reply. */
async function admit(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, s: Settings, opts: AdmissionServerOptions): Promise<void> {
  const started = Date.now();
  // The request's instant, read once: every image of this review is decided at it.
  const now = s.clock();
  const policy = s.policy;
  let status = 200;
  try {
    const work = readBody(req, s.maxBodyBytes).then((body) =>
      handleAdmissionReview(body, {
        policy,
        sources: opts.sources,
        mutate: endpoint === 'mutate',
        now,
        ...(opts.principalFor ? { principalFor: opts.principalFor } : {}),
      }),
    );
    const result = await withinTime(work, s.timeoutMs);
    logDecisions(s.log, endpoint, result, started);
    for (const d of result.decisions) s.metrics.decision(endpoint, d.decision);
    send(res, 200, result.review);
  } catch (e) {
    status = e instanceof HttpError ? e.status : isTrustError(e) && e.code === 'ERR_INVALID_ARGUMENT' ? 400 : 500;
    const message = e instanceof Error ? e.message : String(e);
    s.log({ time: new Date().toISOString(), msg: 'admission request failed', endpoint, status, error: message, ...(isTrustError(e) ? { code: e.code } : {}) });
    send(res, status, { error: status === 500 ? 'internal error' : message });
  } finally {
    s.metrics.request(endpoint, status, (Date.now() - started) / 1000);
  }
}

/** The trust source's facts for the metrics, when it reports them. */
function trustFacts(sources: AdmissionSources): TrustFacts | undefined {
  const t = sources.trust as Partial<TrustFacts> | undefined;
  return typeof t?.guns === 'function' && typeof t.ageMs === 'function' ? (t as TrustFacts) : undefined;
}

function settingsOf(opts: AdmissionServerOptions): Settings {
  const clock = opts.clock ?? (() => decisionTime(undefined));
  return {
    policy: parsePolicy(opts.policy),
    maxBodyBytes: opts.maxBodyBytes ?? ADMISSION_SERVER_DEFAULTS.maxBodyBytes,
    timeoutMs: opts.timeoutMs ?? ADMISSION_SERVER_DEFAULTS.timeoutMs,
    log: opts.log ?? defaultLog,
    // Without a clock, each request's instant is the decision's default time (decisionTime).
    clock,
    metrics: opts.metrics ?? createAdmissionMetrics(trustFacts(opts.sources), clock),
    readiness: opts.readiness ?? (() => undefined),
    draining: false,
  };
}

/** Node's connection deadlines, see {@link ADMISSION_SERVER_DEFAULTS}. */
function applyDeadlines(server: Server, s: Settings, opts: AdmissionServerOptions): void {
  server.keepAliveTimeout = opts.keepAliveTimeoutMs ?? ADMISSION_SERVER_DEFAULTS.keepAliveTimeoutMs;
  server.headersTimeout = Math.min(opts.headersTimeoutMs ?? ADMISSION_SERVER_DEFAULTS.headersTimeoutMs, s.timeoutMs);
  server.requestTimeout = s.timeoutMs + 1000;
  // A connection that finished its handshake but never sends a request has no request clock
  // running: close any socket idle for longer than the keep-alive timeout allows.
  server.timeout = server.keepAliveTimeout + 10_000;
  server.maxHeadersCount = 100;
}

/** `drain` of {@link AdmissionServer}. */
function drainServer(server: Server, s: Settings, graceMs: number): Promise<void> {
  s.draining = true;
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    // Idle keep-alive connections would hold close() open; busy ones finish their review first.
    server.closeIdleConnections();
  });
}

/**
 * Builds the webhook server (not yet listening).
 *
 * @example
 * ```ts
 * const server = createAdmissionServer({ policy, sources: { trust: trustDirTrustSource({ trustDir }) }, tls: { cert, key } });
 * server.listen(8443);
 * ```
 * @throws {TrustError} `ERR_POLICY_INVALID`
 */
export function createAdmissionServer(opts: AdmissionServerOptions): AdmissionServer {
  const s = settingsOf(opts);
  const tlsOptions = {
    cert: opts.tls.cert,
    key: opts.tls.key,
    minVersion: 'TLSv1.2' as const,
    handshakeTimeout: opts.handshakeTimeoutMs ?? ADMISSION_SERVER_DEFAULTS.handshakeTimeoutMs,
    // Check the headers and request deadlines every 500 ms (Node's default is every 30 s).
    connectionsCheckingInterval: 500,
  };
  const server = createServer(tlsOptions, (req, res) => {
    const endpoint = route(req, res, s);
    if (endpoint === undefined) return;
    admit(req, res, endpoint, s, opts).catch((e: unknown) => {
      s.log({ time: new Date().toISOString(), msg: 'admission handler crashed', error: e instanceof Error ? e.message : String(e) });
      send(res, 500, { error: 'internal error' });
    });
  });
  applyDeadlines(server, s, opts);
  return Object.assign(server, {
    metrics: s.metrics,
    reload(update: Parameters<AdmissionServer['reload']>[0]) {
      const policy = update.policy === undefined ? s.policy : parsePolicy(update.policy);
      if (update.tls) server.setSecureContext({ ...tlsOptions, cert: update.tls.cert, key: update.tls.key });
      s.policy = policy;
    },
    drain: (graceMs: number) => drainServer(server, s, graceMs),
  });
}
