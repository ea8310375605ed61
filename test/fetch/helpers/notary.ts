/**
 * A real notary-server (Debian `notary` 0.7.0) on 127.0.0.1 with memory storage, by default with
 * its keys in a real notary-signer behind mutual TLS (`trust_service: remote`, helpers/signer.ts),
 * and the real `notary` CLI to publish into it — the same approach as scripts/interop/mint.sh, per
 * test file and in-process. Only processes started here are stopped, by their handle.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { get } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { onPath, underCi } from '../../helpers/environment.js';
import { startNotarySigner, type NotarySigner } from './signer.js';

/** All from the Debian package `notary`, plus openssl for the signer's certificates. */
export const NOTARY_BINARIES = ['notary', 'notary-server', 'notary-signer', 'openssl'] as const;
const missing = NOTARY_BINARIES.filter((b) => !onPath(b));
/** Why the live suites cannot run here, or undefined. Under CI a missing binary fails instead. */
export const notaryMissing = missing.length === 0 ? undefined : `needs ${missing.join(', ')} on PATH`;
export const runLive = notaryMissing === undefined || underCi;

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((res, rej) => {
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => res());
  });
  const { port } = srv.address() as { port: number };
  await new Promise((res) => srv.close(res));
  return port;
}

const httpOk = (url: string, ca?: string) =>
  new Promise<boolean>((res) => {
    const req = (url.startsWith('https:') ? httpsGet : get)(url, { timeout: 1000, ...(ca === undefined ? {} : { ca }) }, (r) => {
      r.resume();
      res(r.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => res(false));
  });

export interface NotaryServer {
  url: string;
  dir: string;
  /** The notary-signer holding the server's keys; undefined with `trust: 'local'`. */
  signer: NotarySigner | undefined;
  stop(): Promise<void>;
}

export interface NotaryServerOptions {
  /** Serve https with this certificate and key; probed with `ca`. */
  tls?: { cert: string; key: string; ca: string };
  /**
   * `signer` (default): a notary-signer of its own, started here and stopped with the server.
   * `local`: the server keeps its keys itself (ed25519), for suites where the signer is not the
   * point and its start-up would only add time.
   */
  trust?: 'signer' | 'local';
}

/** Starts notary-server; `extra` is merged into its config (e.g. `{ auth: … }`). */
export async function startNotaryServer(dir: string, extra: Record<string, unknown> = {}, opts: NotaryServerOptions = {}): Promise<NotaryServer> {
  mkdirSync(dir, { recursive: true });
  const signer = (opts.trust ?? 'signer') === 'signer' ? await startNotarySigner(join(dir, 'signer')) : undefined;
  try {
    return await startServerProcess(dir, extra, opts.tls, signer);
  } catch (e) {
    await signer?.stop();
    throw e;
  }
}

async function startServerProcess(dir: string, extra: Record<string, unknown>, tls: NotaryServerOptions['tls'], signer: NotarySigner | undefined): Promise<NotaryServer> {
  const trustService = signer ? signer.trustService : { type: 'local' };
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const cfg = join(dir, `server-${port}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({ server: { http_addr: `127.0.0.1:${port}`, ...(tls ? { tls_cert_file: tls.cert, tls_key_file: tls.key } : {}) }, trust_service: trustService, logging: { level: 'info' }, storage: { backend: 'memory' }, ...extra }),
    );
    const child: ChildProcess = spawn('notary-server', ['-config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    const ca = tls ? readFileSync(tls.ca, 'utf8') : undefined;
    const until = Date.now() + 15_000;
    while (Date.now() < until && child.exitCode === null) {
      if (await httpOk(`${url}/_notary_server/health`, ca)) {
        return {
          url,
          dir,
          signer,
          stop: async () => {
            await new Promise<void>((res) => {
              if (child.exitCode !== null) return res();
              child.once('exit', () => res());
              child.kill('SIGTERM');
            });
            await signer?.stop();
          },
        };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGTERM');
    if (attempt === 2) throw new Error(`notary-server did not come up: ${log}`);
  }
  throw new Error('unreachable');
}

/** A publisher: its own trust dir and HOME, fixed passphrases, an empty client config. */
export class Publisher {
  readonly trustDir: string;
  private readonly home: string;
  private readonly config: string;
  readonly server: string;
  readonly env: Record<string, string>;
  readonly files: string;

  constructor(dir: string, server: string, env: Record<string, string> = {}, clientConfig: Record<string, unknown> = {}) {
    this.trustDir = join(dir, 'publisher-trust');
    this.home = join(dir, 'publisher-home');
    this.files = join(dir, 'files');
    this.config = join(dir, 'publisher-client.json');
    for (const d of [this.trustDir, this.home, this.files]) mkdirSync(d, { recursive: true });
    writeFileSync(this.config, JSON.stringify(clientConfig));
    this.server = server;
    this.env = {
      PATH: process.env['PATH'] ?? '',
      HOME: this.home,
      NOTARY_ROOT_PASSPHRASE: 'fetch-root',
      NOTARY_TARGETS_PASSPHRASE: 'fetch-targets',
      NOTARY_SNAPSHOT_PASSPHRASE: 'fetch-snapshot',
      NOTARY_DELEGATION_PASSPHRASE: 'fetch-delegation',
      ...env,
    };
  }

  /** Runs `notary ARGS` against the server; throws with the output on a non-zero exit. */
  run(args: readonly string[], input?: string, server = this.server): string {
    const r = spawnSync('notary', ['-c', this.config, '-d', this.trustDir, '-s', server, ...args], {
      env: this.env,
      encoding: 'utf8',
      timeout: 60_000,
      ...(input === undefined ? {} : { input }),
    });
    if (r.status !== 0) throw new Error(`notary ${args.join(' ')} exited ${String(r.status)}:\n${r.stdout}${r.stderr}`);
    return r.stdout + r.stderr;
  }

  /** As {@link run}, without blocking the event loop (for servers that live in this process). */
  runAsync(args: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn('notary', ['-c', this.config, '-d', this.trustDir, '-s', this.server, ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`notary ${args.join(' ')} exited ${String(code)}:\n${out}`))));
    });
  }

  /** A target file with known content. */
  file(name: string, content: string): string {
    const p = join(this.files, name);
    writeFileSync(p, content);
    return p;
  }

  rotateRoot(gun: string): void {
    const out = this.run(['key', 'rotate', gun, 'root'], 'yes\n');
    if (!/Successfully rotated root key/.test(out)) throw new Error(`root rotation did not happen:\n${out}`);
  }
}

/** `notary list GUN` on a trust dir with the server unreachable (closed port): what its cache says. */
export function notaryListOffline(trustDir: string, gun: string, home: string): { exit: number; rows: { name: string; sha256: string; length: number; role: string }[]; out: string } {
  const config = join(home, 'offline-client.json');
  mkdirSync(home, { recursive: true });
  writeFileSync(config, '{}');
  const r = spawnSync('notary', ['-c', config, '-d', trustDir, '-s', 'http://127.0.0.1:1', 'list', gun], {
    env: { PATH: process.env['PATH'] ?? '', HOME: home },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const rows = [];
  for (const l of r.stdout.split('\n')) {
    const m = /^([^]*?) +([0-9a-f]{64}) +(\d+) +([^ ]+) *$/.exec(l);
    if (m) rows.push({ name: m[1] as string, sha256: m[2] as string, length: Number(m[3]), role: m[4] as string });
  }
  return { exit: r.status ?? -1, rows, out: r.stdout + r.stderr };
}

/**
 * Every entry under `dir`, `dir` itself included (as `./`): directories (`name/` → mode) and files
 * (mode and bytes, base64), for byte-for-byte before/after comparisons in which a directory left
 * behind (even an empty one) counts as a change. A `dir` that does not exist gives `{}`.
 */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    out[`${relative(dir, d) || '.'}/`] = `dir:${statSync(d).mode.toString(8)}`;
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = `${statSync(p).mode.toString(8)}:${readFileSync(p).toString('base64')}`;
    }
  };
  walk(dir);
  return out;
}

export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Options for fetching `gun` from `server()` into fresh trust and state directories under `dir`
 * on every call (no retries, no docker config), merged with `extra`.
 */
export function freshFetchOptions(dir: string, gun: string, server: () => string) {
  let n = 0;
  return <E extends object>(extra: E = {} as E) => {
    n++;
    return { gun, server: server(), now: new Date(), retries: 0, dockerConfigDir: false as const, trustDir: join(dir, `trust-${n}`), stateDir: join(dir, `state-${n}`), ...extra };
  };
}
