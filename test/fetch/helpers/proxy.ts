/**
 * A fault-injecting HTTP proxy on 127.0.0.1 between trustgate and a real notary-server. Each
 * request goes to `rule(path)` (path and query): undefined forwards it untouched, anything else is the fault.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Fault =
  | { status: number; headers?: Record<string, string>; body?: Uint8Array | string }
  /** Streams `chunk` forever (chunked encoding, no Content-Length). */
  | { endless: true }
  /** Sends headers, then one byte every `everyMs`. */
  | { slow: true; everyMs: number }
  /** Forward, but replace the body (Content-Length set to the new length unless `chunked`). */
  | { body: (real: Buffer) => Buffer; chunked?: boolean };

export interface FaultProxy {
  url: string;
  /** Paths requested, in order. */
  seen: string[];
  /** May answer later (a promise), e.g. to let something else happen mid-fetch. */
  rule: (path: string) => Fault | undefined | Promise<Fault | undefined>;
  stop(): Promise<void>;
}

function forward(upstream: URL, req: IncomingMessage): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const r = request(new URL(req.url ?? '/', upstream), { method: 'GET', headers: { ...req.headers, host: upstream.host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string' && k !== 'content-length' && k !== 'transfer-encoding') headers[k] = v;
        resolve({ status: res.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
      });
    });
    r.on('error', reject);
    r.end();
  });
}

export async function startProxy(upstreamUrl: string): Promise<FaultProxy> {
  const upstream = new URL(upstreamUrl);
  const timers = new Set<NodeJS.Timeout>();
  const proxy: FaultProxy = { url: '', seen: [], rule: () => undefined, stop: async () => undefined };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    proxy.seen.push(path);
    const fault = await proxy.rule(path);
    if (fault === undefined || 'body' in fault && typeof fault.body === 'function') {
      const real = await forward(upstream, req);
      const body = fault && typeof fault.body === 'function' ? fault.body(real.body) : real.body;
      res.writeHead(real.status, { ...real.headers, ...(fault && 'chunked' in fault && fault.chunked ? {} : { 'content-length': String(body.length) }) });
      res.end(body);
      return;
    }
    if ('endless' in fault) {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => undefined);
      pump();
      return;
    }
    if ('slow' in fault) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      const t = setInterval(() => {
        if (res.destroyed) {
          clearInterval(t);
          timers.delete(t);
        } else res.write(' ');
      }, fault.everyMs);
      timers.add(t);
      return;
    }
    const f = fault as { status: number; headers?: Record<string, string>; body?: Uint8Array | string };
    res.writeHead(f.status, f.headers ?? {});
    res.end(f.body ?? '');
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.stop = () =>
    new Promise<void>((r) => {
      for (const t of timers) clearInterval(t);
      server.closeAllConnections();
      server.close(() => r());
    });
  return proxy;
}
