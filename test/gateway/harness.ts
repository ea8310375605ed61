/**
 * The real pieces the gateway tests drive: CNCF distribution (`docker-registry`) on 127.0.0.1
 * with filesystem storage in a temp dir, the gateway in front of it, skopeo, OCI layouts built
 * here with node:crypto, and a webhook receiver that checks the HMAC. Every process is started
 * and stopped by its PID.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { onPath, underCi } from '../helpers/environment.js';

/** The test users: a pusher, an ordinary puller, a quarantine reader and the scanner `trivy`. */
export const USERS = [
  { name: 'ci', password: 'ci-pw', roles: ['push', 'pull'] },
  { name: 'dev', password: 'dev-pw', roles: ['pull'] },
  { name: 'qr', password: 'qr-pw', roles: ['quarantine-reader'] },
  { name: 'trivy', password: 'trivy-pw', roles: ['quarantine-writer'], scannerId: 'trivy' },
] as const;

/** Both binaries are there; under CI their absence fails the suite instead of skipping it. */
export const haveTools = onPath('docker-registry') && onPath('skopeo');
export const requireTools = underCi || haveTools;

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A running docker-registry. */
export interface Registry {
  readonly url: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export async function startRegistry(): Promise<Registry> {
  const dir = tempDir('tg-registry-');
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'config.yml'), config);
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${url}/v2/`, 10_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`docker-registry did not start: ${stderr}`, { cause: e });
  }
  return {
    url,
    process: child,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid as number, 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs skopeo with an isolated HOME; resolves with its exit code and output. */
export function skopeo(args: readonly string[], home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'skopeo',
      ['--insecure-policy', ...args],
      { env: { PATH: process.env['PATH'] ?? '', HOME: home, XDG_RUNTIME_DIR: home, REGISTRY_AUTH_FILE: join(home, 'auth.json') }, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A blob written into an OCI layout; returns its descriptor. */
function putBlob(dir: string, mediaType: string, bytes: Buffer): { mediaType: string; digest: string; size: number } {
  const hex = sha(bytes);
  writeFileSync(join(dir, 'blobs', 'sha256', hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

/** A one-file tar archive (ustar), so that layers are what clients expect. */
export function tarOf(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, pad, Buffer.alloc(1024)]);
}

/** The digests of a layout built by {@link buildLayout}. */
export interface Layout {
  readonly dir: string;
  readonly index: string;
  readonly images: readonly string[];
  readonly layers: readonly string[];
}

function image(dir: string, platform: { os: string; architecture: string }, seed: string, layerCount: number) {
  const layers = Array.from({ length: layerCount }, (_, i) =>
    putBlob(dir, 'application/vnd.oci.image.layer.v1.tar+gzip', gzipSync(tarOf(`file-${i}`, Buffer.concat([Buffer.from(`${seed}-${i}\n`), randomBytes(2048 + i)])))),
  );
  const config = putBlob(
    dir,
    'application/vnd.oci.image.config.v1+json',
    Buffer.from(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) }, config: {} })),
  );
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers }));
  return { desc: { ...putBlob(dir, 'application/vnd.oci.image.manifest.v1+json', manifest), platform }, layers: layers.map((l) => l.digest) };
}

/** An OCI layout under a fresh dir: an index with two platforms (several layers each), tagged `tag`. */
export function buildLayout(tag: string, seed: string = randomBytes(8).toString('hex')): Layout {
  const dir = tempDir('tg-oci-');
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const amd = image(dir, { os: 'linux', architecture: 'amd64' }, `${seed}-amd64`, 3);
  const arm = image(dir, { os: 'linux', architecture: 'arm64' }, `${seed}-arm64`, 2);
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [amd.desc, arm.desc] }));
  const idx = putBlob(dir, 'application/vnd.oci.image.index.v1+json', index);
  const top = { schemaVersion: 2, manifests: [{ ...idx, annotations: { 'org.opencontainers.image.ref.name': tag } }] };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(top));
  return { dir, index: idx.digest, images: [amd.desc.digest, arm.desc.digest], layers: [...amd.layers, ...arm.layers] };
}

/** A webhook receiver that records deliveries whose HMAC verifies (and counts those that do not). */
export interface Receiver {
  readonly url: string;
  readonly deliveries: { action: string; digest: string; tag: string | undefined; id: string; header: string; request: unknown }[];
  /** Every attempt's `X-Trustgate-Event-Id`, refused ones included. */
  readonly attempts: string[];
  badSignatures: number;
  /** Answer 500 to the next `n` deliveries (to exercise retries). */
  failNext(n: number): void;
  stop(): Promise<void>;
}

export async function startReceiver(secret: string): Promise<Receiver> {
  let failing = 0;
  const r: Receiver = {
    url: '',
    deliveries: [],
    attempts: [],
    badSignatures: 0,
    failNext: (n) => (failing = n),
    stop: () => new Promise((res) => server.close(() => res())),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
      const got = Buffer.from(String(req.headers['x-trustgate-signature'] ?? ''));
      if (want.length !== got.length || !timingSafeEqual(want, got)) {
        r.badSignatures++;
        res.writeHead(401).end();
        return;
      }
      r.attempts.push(String(req.headers['x-trustgate-event-id']));
      if (failing > 0) {
        failing--;
        res.writeHead(500).end();
        return;
      }
      const p = JSON.parse(body.toString()) as { id: string; action: string; target: { digest: string; tag?: string }; request?: unknown };
      r.deliveries.push({ action: p.action, digest: p.target.digest, tag: p.target.tag, id: p.id, header: String(req.headers['x-trustgate-event-id']), request: p.request });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  (r as { url: string }).url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/hook`;
  return r;
}

/** Polls `check` until it holds or `ms` pass. */
export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** A registry with the OCI referrers API in front of a docker-registry (which has none). */
export interface ReferrersUpstream {
  readonly url: string;
  /** The query of every referrers page served, in order (`''` for the first page). */
  readonly pagesServed: string[];
  stop(): Promise<void>;
}

/**
 * Proxies `registry` and adds `GET /v2/<name>/referrers/<digest>` (distribution-spec "Listing
 * Referrers") over the manifests with a `subject` PUT through it, `pageSize` descriptors a page
 * with `Link: <…?page=k>; rel="next"`, as a registry that paginates answers.
 */
export async function startReferrersUpstream(registry: string, pageSize: number): Promise<ReferrersUpstream> {
  const up = new URL(registry);
  const referrers = new Map<string, Record<string, unknown>[]>();
  const pagesServed: string[] = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const m = /^\/v2\/(.+)\/referrers\/(sha256:[a-f0-9]{64})$/.exec(u.pathname);
    if (m !== null && req.method === 'GET') {
      pagesServed.push(u.search);
      const all = referrers.get(`${m[1]}@${m[2]}`) ?? [];
      const page = Number(u.searchParams.get('page') ?? '0');
      const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: all.slice(page * pageSize, (page + 1) * pageSize) });
      const more = (page + 1) * pageSize < all.length;
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', ...(more ? { link: `<${u.pathname}?page=${page + 1}>; rel="next"` } : {}) });
      res.end(body);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const put = /^\/v2\/(.+)\/manifests\/(sha256:[a-f0-9]{64})$/.exec(u.pathname);
      if (put !== null && req.method === 'PUT') {
        const man = JSON.parse(body.toString()) as { mediaType: string; subject?: { digest: string }; artifactType?: string; config?: { mediaType: string }; annotations?: Record<string, string> };
        if (man.subject !== undefined) {
          const key = `${put[1]}@${man.subject.digest}`;
          const list = referrers.get(key) ?? [];
          list.push({ mediaType: man.mediaType, digest: put[2], size: body.length, artifactType: man.artifactType ?? man.config?.mediaType, ...(man.annotations ? { annotations: man.annotations } : {}) });
          referrers.set(key, list);
        }
      }
      // The Host stays this server's, so that distribution's Locations name it.
      const fwd = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      fwd.on('error', () => res.destroy());
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    pagesServed,
    stop: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
