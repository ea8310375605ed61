/**
 * Blob GETs relayed at the socket level (issue 15, blob throughput). After the gateway has
 * authenticated the caller and the machine has allowed the blob, the bytes need no second HTTP
 * parser: the request goes to the upstream on a raw keep-alive TCP connection, the response head
 * is read here, and the body is copied from that socket to the client's response as it arrives.
 * Reads land in a small pool of reusable 256 KiB buffers (net.Socket `onread`), so a 100 MiB blob
 * costs no per-chunk allocation and no garbage; a buffer goes back to the pool only when the
 * client's socket has written it. Nothing is buffered beyond the response's highWaterMark (the
 * upstream socket pauses until the client drains).
 *
 * Only the plain case is taken: HTTP upstream, status 200 or 206 with a Content-Length and no
 * Transfer-Encoding. Anything else (404, a storage redirect, chunked, a head over 64 KiB) answers
 * `fallback` before a byte reaches the client, and the caller relays it through node:http.
 *
 * @module
 */
import net from 'node:net';
import type { ServerResponse } from 'node:http';

/** Response headers relayed to the client (the blob subset of upstream.ts's list). */
const RELAYED = ['content-type', 'content-length', 'content-range', 'accept-ranges', 'docker-content-digest', 'etag', 'last-modified', 'cache-control'];
const BUFFER_BYTES = 256 * 1024;
const MAX_HEAD = 64 * 1024;
const MAX_IDLE = 64;
const IDLE_TIMEOUT_MS = 30_000;

type Buf = Buffer & { refs: number };

/** One raw connection; `onData` is the current response's reader (undefined while idle). */
interface Conn {
  readonly socket: net.Socket;
  current: Buf;
  onData: ((n: number, buf: Buf) => boolean) | undefined;
  onClose: (() => void) | undefined;
}

/** What {@link createRawBlobs} gives the blob handler. */
export interface RawBlobs {
  /** GETs `path` upstream and streams a 200/206 to `res`; `fallback` when the answer is anything else. */
  get(path: string, range: string | undefined, res: ServerResponse): Promise<'relayed' | 'fallback'>;
  close(): void;
}

function bufferPool() {
  const free: Buf[] = [];
  return {
    take(): Buf {
      const b = free.pop() ?? (Object.assign(Buffer.allocUnsafeSlow(BUFFER_BYTES), { refs: 0 }) as Buf);
      b.refs = 1;
      return b;
    },
    release(b: Buf): void {
      if (--b.refs === 0 && free.length < MAX_IDLE * 2) free.push(b);
    },
  };
}

/** The status and lower-cased headers of a response head (`HTTP/1.1 200 OK\r\n…`). */
function parseHead(text: string): { status: number; headers: Map<string, string> } | undefined {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] ([0-9]{3})/.exec(lines[0] ?? '');
  if (m?.[1] === undefined) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return { status: Number(m[1]), headers };
}

/** The relayable head, or undefined when the answer is not a plain Content-Length body. */
function plainHead(head: { status: number; headers: Map<string, string> }): { length: number; out: Record<string, string>; reusable: boolean } | undefined {
  const length = head.headers.get('content-length');
  if ((head.status !== 200 && head.status !== 206) || head.headers.has('transfer-encoding') || length === undefined || !/^[0-9]{1,15}$/.test(length)) return undefined;
  const out: Record<string, string> = {};
  for (const h of RELAYED) {
    const v = head.headers.get(h);
    if (v !== undefined) out[h] = v;
  }
  return { length: Number(length), out, reusable: head.headers.get('connection')?.toLowerCase() !== 'close' };
}

/**
 * The reader of one response: head first, then exactly `length` body bytes written to `res`.
 * `finish` is called once: with `relayed` or `fallback`, and whether the connection can be reused.
 */
function responseReader(c: Conn, res: ServerResponse, release: (b: Buf) => void, finish: (r: 'relayed' | 'fallback', reuse: boolean) => void) {
  let head: Buffer | undefined = Buffer.alloc(0);
  let remaining = -1;
  let reusable = true;
  const body = (buf: Buf, from: number, n: number): boolean => {
    const len = Math.min(n - from, remaining);
    remaining -= len;
    if (len > 0) {
      buf.refs++;
      if (!res.write(buf.subarray(from, from + len), () => release(buf)) && remaining > 0) {
        res.once('drain', () => c.socket.resume());
        return false;
      }
    }
    if (remaining === 0) {
      res.end();
      finish('relayed', reusable && from + len === n);
    }
    return true;
  };
  return (n: number, buf: Buf): boolean => {
    if (head === undefined) return body(buf, 0, n);
    head = Buffer.concat([head, buf.subarray(0, n)]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > MAX_HEAD) finish('fallback', false);
      return true;
    }
    const parsed = parseHead(head.subarray(0, end).toString('latin1'));
    const plain = parsed === undefined ? undefined : plainHead(parsed);
    if (plain === undefined) {
      finish('fallback', false);
      return true;
    }
    const skip = n - (head.length - end - 4);
    head = undefined;
    remaining = plain.length;
    reusable = plain.reusable;
    res.writeHead(parsed?.status ?? 502, plain.out);
    return body(buf, skip, n);
  };
}

/**
 * A pool of raw connections to the HTTP upstream at `host:port`, sending `authorization` (the
 * gateway's own upstream credentials) when given.
 */
export function createRawBlobs(hostname: string, port: number, hostHeader: string, authorization: string | undefined): RawBlobs {
  const buffers = bufferPool();
  const idle = new Set<Conn>();
  const connect = (): Conn => {
    const c: Conn = { current: buffers.take(), onData: undefined, onClose: undefined, socket: undefined as unknown as net.Socket };
    const next = () => {
      buffers.release(c.current);
      c.current = buffers.take();
      return c.current;
    };
    (c as { socket: net.Socket }).socket = net.connect({ host: hostname, port, onread: { buffer: next, callback: (n, buf) => (c.onData === undefined ? (c.socket.destroy(), false) : c.onData(n, buf as Buf)) } });
    c.socket.setNoDelay(true);
    c.socket.setTimeout(IDLE_TIMEOUT_MS, () => c.socket.destroy());
    c.socket.on('error', () => undefined);
    c.socket.once('close', () => {
      idle.delete(c);
      c.onClose?.();
    });
    return c;
  };
  const acquire = (): Conn => {
    for (const c of idle) {
      idle.delete(c);
      if (!c.socket.destroyed) return c;
    }
    return connect();
  };
  return {
    get: (path, range, res) =>
      new Promise((resolve) => {
        const c = acquire();
        let done = false;
        const finish = (r: 'relayed' | 'fallback', reuse: boolean) => {
          if (done) return;
          done = true;
          c.onData = undefined;
          c.onClose = undefined;
          if (reuse && idle.size < MAX_IDLE && !c.socket.destroyed) idle.add(c);
          else c.socket.destroy();
          resolve(r);
        };
        const cut = () => {
          if (done) return;
          // Before the head was relayed nothing reached the client: node:http may still answer.
          if (!res.headersSent) return finish('fallback', false);
          res.destroy();
          finish('relayed', false);
        };
        c.onData = responseReader(c, res, (b) => buffers.release(b), finish);
        c.onClose = cut;
        res.once('close', () => !done && (c.socket.destroy(), finish('relayed', false)));
        const auth = authorization === undefined ? '' : `Authorization: ${authorization}\r\n`;
        const r = range === undefined ? '' : `Range: ${range}\r\n`;
        c.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\n${auth}${r}Accept-Encoding: identity\r\n\r\n`);
      }),
    close: () => {
      for (const c of idle) c.socket.destroy();
      idle.clear();
    },
  };
}
