/**
 * An in-test static notary-server on 127.0.0.1: serves metadata directories as notary-server's
 * routes do (`<server>/v2/<GUN>/_trust/tuf/<name>.json`), each file under its plain name and its
 * checksum name `<name>.<sha256hex>` (notary-rules.md §7.4), and records every name asked for.
 * Used by the fetch's update-rule tests, which run under mutation testing: no notary-server needed.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

/** Another answer than the file: a status and body, or `hang` (headers never sent) for a timeout. */
export type Override = { status: number; body?: Buffer } | 'hang' | undefined;

export class StaticNotary {
  readonly seen: string[] = [];
  /** Per request name (`timestamp`, `snapshot.<hex>`): an answer other than the file. */
  override: (name: string) => Override = () => undefined;
  private readonly files = new Map<string, Map<string, Buffer>>();
  private readonly server = http.createServer((req, res) => this.answer(req, res));
  url = '';

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
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const m = /^\/v2\/(.+)\/_trust\/tuf\/(.+)\.json$/.exec(req.url ?? '');
    const name = m?.[2] ?? '';
    this.seen.push(name);
    const o = this.override(name);
    if (o === 'hang') return;
    const body = o ? (o.body ?? Buffer.alloc(0)) : this.files.get(m?.[1] ?? '')?.get(name);
    const status = o ? o.status : body === undefined ? 404 : 200;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(body?.length ?? 0) });
    res.end(body);
  }
}
