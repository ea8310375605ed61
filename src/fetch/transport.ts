/**
 * HTTP GET for the fetch adapter, on `node:http`/`node:https` (the built-in `fetch` cannot take a
 * CA bundle without undici's own API). Every body is streamed and cut off one byte past its cap,
 * every request has a timeout, the whole fetch has a deadline, and only network errors and 5xx
 * answers are retried. Redirects are followed only within the same origin.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, rootCertificates } from 'node:tls';
import { isIP } from 'node:net';
import { TrustError, type TrustErrorCode } from '../errors.js';
import { proxyAuthorization, proxyFor, type ProxyEnv } from './proxy.js';

export interface TransportOptions {
  /** Per request (headers and body), in ms. */
  timeoutMs: number;
  /** Absolute time (epoch ms of the machine clock) after which no request may run. */
  deadline: number;
  /** Retries after the first attempt, for network errors and 5xx only. */
  retries: number;
  /** First backoff in ms; doubled per retry. */
  backoffMs: number;
  /** Extra CA certificates (PEM) trusted for https, on top of Node's bundle. */
  ca?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Where HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read from (see proxy.ts); none: direct. */
  proxyEnv?: ProxyEnv | undefined;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Uint8Array;
  url: URL;
}

export interface GetOptions {
  /** Largest body accepted for a 2xx answer. */
  maxBytes: number;
  headers?: Readonly<Record<string, string>>;
  /** What is being downloaded, for messages (`timestamp.json`, `token`). */
  what: string;
  role?: string | undefined;
}

/** Bodies of error answers are read only this far (they are never used as data). */
const ERROR_BODY_CAP = 64 * 1024;
const MAX_REDIRECTS = 5;

const fetchError = (code: TrustErrorCode, message: string, o: GetOptions, extra: { cause?: unknown; expected?: number; actual?: number; check?: string } = {}) =>
  new TrustError(code, message, {
    ...(o.role === undefined ? {} : { role: o.role }),
    check: extra.check ?? 'download',
    path: o.what,
    ...(extra.expected === undefined ? {} : { expected: extra.expected }),
    ...(extra.actual === undefined ? {} : { actual: extra.actual }),
    ...(extra.cause === undefined ? {} : { cause: extra.cause }),
  });

const sleep = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

export class Transport {
  /** Bytes of every body received, including error answers. */
  bytesReceived = 0;
  requests = 0;

  private readonly opts: TransportOptions;

  constructor(opts: TransportOptions) {
    this.opts = opts;
  }

  /**
   * GET with retries and same-origin redirects. Returns any final status; the caller maps 4xx.
   * @throws {TrustError} `ERR_FETCH_UNREACHABLE`, `ERR_FETCH_TIMEOUT`, `ERR_FETCH_TOO_LARGE`,
   *   `ERR_FETCH_SERVER` (5xx after retries, cross-origin redirect), `ERR_FETCH_ABORTED`
   */
  async get(url: URL, o: GetOptions): Promise<HttpAnswer> {
    let current = url;
    for (let hop = 0; ; hop++) {
      const answer = await this.withRetries(current, o);
      if (answer.status < 300 || answer.status >= 400 || answer.status === 304) return answer;
      const location = answer.headers.location;
      if (location === undefined) return answer;
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        // A Location that is not a URL is a broken server answer, not a crash (the fetch fuzz found it).
        throw fetchError('ERR_FETCH_SERVER', `${o.what}: ${current.origin} redirected to ${JSON.stringify(location.slice(0, 200))}, which is not a URL`, o, { check: 'redirect' });
      }
      // Credentials and trust decisions are per origin: never let a server send us elsewhere.
      if (next.origin !== url.origin) {
        throw fetchError('ERR_FETCH_SERVER', `${o.what}: ${current.origin} redirected to another origin (${next.origin}); refused`, o, { check: 'redirect' });
      }
      if (hop >= MAX_REDIRECTS) throw fetchError('ERR_FETCH_SERVER', `${o.what}: more than ${MAX_REDIRECTS} redirects`, o, { check: 'redirect' });
      current = next;
    }
  }

  private async withRetries(url: URL, o: GetOptions): Promise<HttpAnswer> {
    for (let attempt = 0; ; attempt++) {
      let answer: HttpAnswer | undefined;
      let failure: TrustError | undefined;
      try {
        answer = await this.once(url, o);
      } catch (e) {
        if (!(e instanceof TrustError) || e.code !== 'ERR_FETCH_UNREACHABLE') throw e;
        failure = e;
      }
      if (answer && answer.status < 500) return answer;
      const wait = this.opts.backoffMs * 2 ** attempt;
      if (attempt >= this.opts.retries || Date.now() + wait >= this.opts.deadline) {
        if (failure) throw failure;
        return answer as HttpAnswer;
      }
      await sleep(wait, this.opts.signal);
      this.checkAbort(o);
    }
  }

  private checkAbort(o: GetOptions): void {
    if (this.opts.signal?.aborted) throw fetchError('ERR_FETCH_ABORTED', `${o.what}: the fetch was aborted`, o, { cause: this.opts.signal.reason });
  }

  private once(url: URL, o: GetOptions): Promise<HttpAnswer> {
    this.checkAbort(o);
    const left = this.opts.deadline - Date.now();
    if (left <= 0) return Promise.reject(fetchError('ERR_FETCH_TIMEOUT', `${o.what}: the fetch deadline passed`, o, { check: 'deadline' }));
    const budget = Math.min(this.opts.timeoutMs, left);
    const byDeadline = budget < this.opts.timeoutMs;
    this.requests++;
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const finish = (e: TrustError | undefined, a?: HttpAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.opts.signal?.removeEventListener('abort', onAbort);
        if (e) {
          req.destroy();
          reject(e);
        } else resolve(a as HttpAnswer);
      };
      const onAbort = () => finish(fetchError('ERR_FETCH_ABORTED', `${o.what}: the fetch was aborted`, o, { cause: this.opts.signal?.reason }));
      const timer = setTimeout(
        () =>
          finish(
            byDeadline
              ? fetchError('ERR_FETCH_TIMEOUT', `${o.what}: the fetch deadline passed during the download`, o, { check: 'deadline' })
              : fetchError('ERR_FETCH_TIMEOUT', `${o.what}: no complete answer within ${this.opts.timeoutMs} ms`, o, { check: 'request timeout', expected: this.opts.timeoutMs }),
          ),
        budget,
      );
      const req = this.send(url, { accept: 'application/json', 'user-agent': 'trustgate', ...o.headers });
      this.opts.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e: NodeJS.ErrnoException) =>
        finish(fetchError('ERR_FETCH_UNREACHABLE', `${o.what}: cannot reach ${url.origin}: ${e.code === undefined ? e.message : `${e.code} (${e.message})`}`, o, { cause: e })),
      );
      req.on('response', (res: IncomingMessage) => this.readAnswer(res, url, o, finish, () => settled));
      req.end();
    });
  }

  /** Starts the GET: directly, or through the environment's proxy (absolute-form for http, a CONNECT tunnel for https). */
  private send(url: URL, headers: Record<string, string>) {
    const ca = url.protocol === 'https:' && this.opts.ca !== undefined ? { ca: withNodeRoots(this.opts.ca) } : {};
    const proxy = proxyFor(url, this.opts.proxyEnv ?? {});
    if (proxy === undefined) return (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'GET', headers, ...ca });
    if (url.protocol === 'http:') {
      return httpRequest({ host: proxy.hostname, port: proxy.port || 80, method: 'GET', path: url.href, headers: { ...headers, host: url.host, ...proxyAuthorization(proxy) } });
    }
    return httpsRequest(url, { method: 'GET', headers, ...ca, createConnection: (_: unknown, done: (e: Error | null, s?: Duplex) => void) => tunnel(proxy, url, this.opts.ca, done) } as never);
  }

  /** Reads one answer's body within its cap: a success past the cap is refused as too large, an error page is cut short. */
  private readAnswer(res: IncomingMessage, url: URL, o: GetOptions, finish: (e: TrustError | undefined, a?: HttpAnswer) => void, settled: () => boolean): void {
    const status = res.statusCode ?? 0;
    const ok = status >= 200 && status < 300;
    const cap = ok ? o.maxBytes : ERROR_BODY_CAP;
    const tooLarge = (actual: number) =>
      fetchError('ERR_FETCH_TOO_LARGE', `${o.what} is larger than the ${cap} bytes its referrer allows; download stopped`, o, {
        check: 'size cap',
        expected: cap,
        actual,
      });
    const declared = Number(res.headers['content-length']);
    if (ok && Number.isFinite(declared) && declared > cap) {
      finish(tooLarge(declared));
      return;
    }
    const chunks: Buffer[] = [];
    let n = 0;
    res.on('data', (chunk: Buffer) => {
      if (settled()) return;
      n += chunk.length;
      this.bytesReceived += chunk.length;
      if (n > cap) {
        if (ok) {
          finish(tooLarge(n));
          return;
        }
        // An error page longer than we care about: keep the start, stop reading.
        chunks.push(chunk.subarray(0, chunk.length - (n - cap)));
        finish(undefined, { status, headers: res.headers, body: Buffer.concat(chunks), url });
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => {
      const body = Buffer.concat(chunks);
      finish(undefined, { status, headers: res.headers, body: new Uint8Array(body.buffer, body.byteOffset, body.length), url });
    });
    res.on('error', (e: NodeJS.ErrnoException) =>
      finish(fetchError('ERR_FETCH_UNREACHABLE', `${o.what}: the connection to ${url.origin} broke: ${e.code ?? e.message}`, o, { cause: e })),
    );
    res.on('aborted', () => finish(fetchError('ERR_FETCH_UNREACHABLE', `${o.what}: the connection to ${url.origin} broke mid-body`, o)));
  }
}

/**
 * Node's `ca` option replaces its bundle; the extra CAs are meant on top of it (a private
 * notary-server CA must not cut off a token service with a public certificate).
 */
function withNodeRoots(extra: string): string[] {
  return [...rootCertificates, extra];
}

/** An https connection through an http proxy: CONNECT host:port, then TLS to the target over the tunnel. */
function tunnel(proxy: URL, target: URL, ca: string | undefined, done: (e: Error | null, s?: Duplex) => void): undefined {
  const authority = `${target.hostname}:${target.port || 443}`;
  const connect = httpRequest({ host: proxy.hostname, port: proxy.port || 80, method: 'CONNECT', path: authority, headers: { host: authority, ...proxyAuthorization(proxy) } });
  connect.once('connect', (res, socket) => {
    if (res.statusCode !== 200) {
      socket.destroy();
      done(new Error(`proxy ${proxy.origin} refused CONNECT ${authority}: ${res.statusCode ?? 0} ${res.statusMessage ?? ''}`.trim()));
      return;
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const tls = tlsConnect({ socket, host, ...(isIP(host) === 0 ? { servername: host } : {}), ...(ca === undefined ? {} : { ca: withNodeRoots(ca) }) });
    done(null, tls);
  });
  connect.once('error', (e) => done(new Error(`proxy ${proxy.origin}: ${e.message}`)));
  connect.end();
  return undefined;
}
