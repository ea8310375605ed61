/**
 * An in-test static notary-server on 127.0.0.1: serves metadata directories as notary-server's
 * routes do (`<server>/v2/<GUN>/_trust/tuf/<name>.json`), each file under its plain name and its
 * checksum name `<name>.<sha256hex>` (notary-rules.md §7.4), and records every name asked for.
 * Used by the fetch's update-rule tests, which run under mutation testing: no notary-server needed.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

/** Another answer than the file: a status and body, or `hang` (headers never sent) for a timeout. */
export type Override = { status: number; body?: Buffer } | 'hang' | undefined;

export class StaticNotary {
  readonly seen: string[] = [];
  /** Per request name (`timestamp`, `snapshot.<hex>`): an answer other than the file. */
  override: (name: string) => Override = () => undefined;
  /**
   * Token auth as notary-server's `auth: { type: token }` asks for it: without a bearer token whose
   * `access` grants pull on the GUN, a 401 with the challenge. (The token's signature is the token
   * server's business, helpers/token-server.ts; this only reads its grants.)
   */
  tokenAuth: { realm: string; service: string } | undefined;
  private readonly files = new Map<string, Map<string, Buffer>>();
  private readonly server: http.Server;
  private readonly scheme: 'http' | 'https';
  url = '';

  /** `tls`: serve https with this certificate (its CA is the test's to hand to the client). */
  constructor(tls?: { cert: Buffer; key: Buffer }) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.answer(req, res);
    this.server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    this.scheme = tls ? 'https' : 'http';
  }

  /** Serves every `*.json` under `dir` for `gun` (replacing what was served for it before). */
  add(gun: string, dir: string): void {
    const m = new Map<string, Buffer>();
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (f.endsWith('.json')) this.put(m, relative(dir, p).replace(/\.json$/, ''), readFileSync(p));
      }
    };
    walk(dir);
    this.files.set(gun, m);
  }

  /** One more file for `gun`, under `name` and its checksum name (e.g. `2.root`). */
  addFile(gun: string, name: string, bytes: Buffer): void {
    const m = this.files.get(gun) ?? new Map<string, Buffer>();
    this.put(m, name, bytes);
    this.files.set(gun, m);
  }

  private put(m: Map<string, Buffer>, name: string, bytes: Buffer): void {
    m.set(name, bytes);
    m.set(`${name}.${createHash('sha256').update(bytes).digest('hex')}`, bytes);
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `${this.scheme}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const m = /^\/v2\/(.+)\/_trust\/tuf\/(.+)\.json$/.exec(req.url ?? '');
    const name = m?.[2] ?? '';
    this.seen.push(name);
    const gun = m?.[1] ?? '';
    if (this.tokenAuth && !grantsPull(req.headers.authorization, gun)) {
      const { realm, service } = this.tokenAuth;
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="${service}",scope="repository:${gun}:pull"`, 'content-length': '0' });
      res.end();
      return;
    }
    const o = this.override(name);
    if (o === 'hang') return;
    const body = o ? (o.body ?? Buffer.alloc(0)) : this.files.get(gun)?.get(name);
    const status = o ? o.status : body === undefined ? 404 : 200;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(body?.length ?? 0) });
    res.end(body);
  }
}

/** The JWT's `access` claim grants `pull` on `gun`. */
function grantsPull(header: string | undefined, gun: string): boolean {
  const token = /^Bearer (\S+)$/.exec(header ?? '')?.[1];
  const payload = token?.split('.')[1];
  if (payload === undefined) return false;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { access?: { type: string; name: string; actions: string[] }[] };
    return (claims.access ?? []).some((a) => a.type === 'repository' && a.name === gun && a.actions.includes('pull'));
  } catch {
    return false;
  }
}

/**
 * Fetch options for a test against a static notary: no docker config, no proxy, no retries, a
 * short deadline; `extra` overrides any of them.
 */
export function staticFetchOptions(server: string, gun: string, now: Date, dirs: { trustDir: string; stateDir: string }, extra: object = {}) {
  return { gun, now, server, ...dirs, dockerConfigDir: false as const, proxyEnv: {}, retries: 0, backoffMs: 1, timeoutMs: 5_000, ...extra };
}
