/**
 * Test helpers for admission: the real-Notary vectors as one trust source, AdmissionReview
 * fixtures, a self-signed loopback certificate, and a TEST-ONLY RFC 6902 applier.
 */
import { execFileSync, spawn } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trustDirTrustSource, type TrustSource } from '../../src/admission/index.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const VECTORS = join(ROOT, 'vectors', 'notary-0.7.0');
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export interface Vector {
  gun: string;
  trustDir: string;
  generatedAt: Date;
  /** name → sha256 hex, as the real client resolves it. */
  targets: Record<string, { sha256: string; role: string }>;
  byRole: Record<string, Record<string, { sha256: string }>>;
}

export function vector(name: 'hub-like' | 'delegation' | 'basic' | 'custom-root-cert'): Vector {
  const dir = join(VECTORS, name);
  const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
    gun: string;
    generated_at: string;
    targets: Vector['targets'];
    targets_by_role: Vector['byRole'];
  };
  return { gun: e.gun, trustDir: join(dir, 'trust'), generatedAt: new Date(e.generated_at), targets: e.targets, byRole: e.targets_by_role };
}

export const HUB = vector('hub-like');
export const DELEG = vector('delegation');
export const BASIC = vector('basic');

/** A time at which every vector used here is valid (all were made within seconds; timestamps last 14 days). */
export const NOW = new Date('2026-11-27T03:00:00Z');

export const digestOf = (v: Vector, tag: string): string => `sha256:${(v.targets[tag] as { sha256: string }).sha256}`;

/** A TrustSource that finds each GUN in its own vector folder (a source a registry could plug). */
export function vectorTrust(vectors: readonly Vector[] = [HUB, DELEG, BASIC]): TrustSource & { calls: string[] } {
  const calls: string[] = [];
  const byGun = new Map(vectors.map((v) => [v.gun, trustDirTrustSource({ trustDir: v.trustDir })]));
  const empty = trustDirTrustSource({ trustDir: join(VECTORS, 'no-such-trust-dir') });
  return {
    calls,
    verify(q) {
      calls.push(q.gun);
      return (byGun.get(q.gun) ?? empty).verify(q);
    },
  };
}

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

/** A self-signed P-256 certificate for 127.0.0.1, made with openssl in a temp dir. */
export function selfSignedCert(): { cert: string; key: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'trustgate-admission-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', key, '-out', cert],
    { stdio: 'pipe' },
  );
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8'), dir };
}

// ---------------------------------------------------------------------------------------------
// TEST-ONLY: a minimal RFC 6902 applier for `add` and `replace` with RFC 6901 pointers. It exists
// only to check the webhook's patches; the package itself neither applies patches nor depends on
// a JSON Patch library.
// ---------------------------------------------------------------------------------------------

export interface TestPatchOp {
  op: string;
  path: string;
  value?: unknown;
}

function unescapeToken(t: string): string {
  return t.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function applyJsonPatchForTests<T>(doc: T, ops: readonly TestPatchOp[]): T {
  const out = structuredClone(doc) as unknown;
  for (const op of ops) {
    if (op.op !== 'add' && op.op !== 'replace') throw new Error(`test applier: unsupported op ${op.op}`);
    if (!op.path.startsWith('/')) throw new Error(`test applier: bad pointer ${op.path}`);
    const tokens = op.path.slice(1).split('/').map(unescapeToken);
    const last = tokens.pop() as string;
    let parent: unknown = out;
    for (const t of tokens) {
      if (Array.isArray(parent)) parent = parent[Number(t)];
      else if (typeof parent === 'object' && parent !== null && Object.hasOwn(parent, t)) parent = (parent as Record<string, unknown>)[t];
      else throw new Error(`test applier: ${op.path} does not exist`);
    }
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(i) || i < 0 || i > parent.length || (op.op === 'replace' && i >= parent.length)) throw new Error(`test applier: bad index in ${op.path}`);
      if (op.op === 'add') parent.splice(i, 0, op.value);
      else parent[i] = op.value;
    } else if (typeof parent === 'object' && parent !== null) {
      const o = parent as Record<string, unknown>;
      if (op.op === 'replace' && !Object.hasOwn(o, last)) throw new Error(`test applier: replace of missing ${op.path}`);
      o[last] = op.value;
    } else {
      throw new Error(`test applier: parent of ${op.path} is not a container`);
    }
  }
  return out as T;
}

/** Decodes `response.patch` (base64 JSON) of an AdmissionReview response. */
export function decodePatch(patch: string | undefined): TestPatchOp[] {
  return patch === undefined ? [] : (JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as TestPatchOp[]);
}

/** A running `trustgate admission serve` child (started by {@link startServe}). */
export interface ServeChild {
  port: number;
  /** Everything it printed on stdout so far. */
  out(): string;
  /** One HTTPS request to it (a fresh connection each time). */
  call(method: string, path: string, body?: string): Promise<{ status: number; body: string }>;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Sends a signal without waiting. */
  signal(signal: NodeJS.Signals): void;
  /** Kills it if still running (by its own handle). */
  cleanup(): void;
}

/** Starts `node dist/cli.js admission serve ARGS --port 0 --host 127.0.0.1` with the given TLS files. */
export async function startServe(args: readonly string[], tls: { cert: string; dir: string }): Promise<ServeChild> {
  const cli = join(ROOT, 'dist', 'cli.js');
  const tlsArgs = ['--tls-cert', join(tls.dir, 'cert.pem'), '--tls-key', join(tls.dir, 'key.pem')];
  const child = spawn(process.execPath, [cli, 'admission', 'serve', ...tlsArgs, '--port', '0', '--host', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`exited ${String(code)}: ${out}`)));
  });
  const call = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      const req = httpsRequest({ host: '127.0.0.1', port, method, path, ca: tls.cert, agent: false, headers }, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      });
      req.on('error', reject);
      req.end(body);
    });
  return {
    port,
    out: () => out,
    call,
    signal: (sig) => void child.kill(sig),
    stop: (sig = 'SIGTERM') => {
      const exit = new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)));
      child.kill(sig);
      return exit;
    },
    cleanup: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
