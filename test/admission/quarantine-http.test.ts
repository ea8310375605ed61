/**
 * Quarantine over HTTP (issue 16 item 4): a small real registry on 127.0.0.1 answers
 * `GET /acr/v1/<repo>/_manifests/<digest>` from the real quarantine service (memory store) with
 * `acrAttributes`; the webhook and `trustgate check` ask it. A registry that hangs is a deny
 * within the reader's timeout.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmissionServer, httpQuarantineReader, parsePolicy, type QuarantineReader } from '../../src/admission/index.js';
import { acrAttributes, createMemoryStore, createQuarantineService } from '../../src/quarantine/index.js';
import { CLI, ROOT } from '../cli/helpers.js';
import { digestOf, fixture, HUB, NOW, selfSignedCert, vectorTrust } from './helpers.js';
import { closeServer, listenLocal } from '../helpers/listen.js';

const V1 = digestOf(HUB, 'v1');
const LATEST = digestOf(HUB, 'latest');
const ci = { id: 'ci', roles: ['push'] } as const;
const scanner = { id: 'trivy-bot', roles: ['quarantine-writer'] } as const;
const q = createQuarantineService({ store: createMemoryStore(), config: { scanners: ['trivy'] }, clock: () => NOW.getTime() - 60_000 });
const TOKEN = 'registry-token-1';
/** How the registry answers: ACR's nested layout, the gateway's flat `acrAttributes`, or never. */
let mode: 'acr' | 'flat' | 'hang' = 'acr';
const hung: ServerResponse[] = [];

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (mode === 'hang') {
    hung.push(res);
    return;
  }
  if (req.headers.authorization !== `Bearer ${TOKEN}`) {
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="test"' }).end();
    return;
  }
  const m = /^\/acr\/v1\/(.+)\/_manifests\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? '');
  const rec = m ? (await q.view(decodeURIComponent(m[1] as string))).record(m[2] as string) : undefined;
  if (!m || !rec) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    return;
  }
  const { etag, ...attrs } = acrAttributes(rec);
  const body = mode === 'flat' ? { ...attrs, etag } : { registry: 'registry.test', imageName: m[1], manifest: { digest: m[2], changeableAttributes: attrs } };
  res.writeHead(200, { 'content-type': 'application/json', etag }).end(JSON.stringify(body));
}

const registry = createServer((req, res) => void answer(req, res));
let registryUrl = '';
const tls = selfSignedCert();
const policy = parsePolicy({ rules: [{ images: 'docker.io/acme/**', requireQuarantineVisible: true }], default: { action: 'deny' } });

beforeAll(async () => {
  await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
  registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;
  await q.push({ repository: 'acme/hub', digest: V1, tag: 'v1', principal: ci });
  await q.push({ repository: 'acme/hub', digest: LATEST, tag: 'latest', principal: ci });
});
afterAll(async () => {
  for (const r of hung) r.destroy();
  await closeServer(registry);
  rmSync(tls.dir, { recursive: true, force: true });
});

/** A webhook asking `reader`; `review(tag)` posts a pod running docker.io/acme/hub:<tag>. */
async function webhook(reader: QuarantineReader, clock = () => NOW) {
  const server = createAdmissionServer({ policy, sources: { trust: vectorTrust(), quarantine: reader }, tls, clock, log: () => undefined });
  const port = await listenLocal(server);
  const review = (tag: string) =>
    new Promise<{ allowed: boolean; status?: { message: string }; ms: number }>((resolve, reject) => {
      const r = structuredClone(fixture('pod.json')) as { request: { object: { spec: unknown } } };
      r.request.object.spec = { containers: [{ name: 'app', image: `docker.io/acme/hub:${tag}` }] };
      const body = JSON.stringify(r);
      const started = Date.now();
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/validate', ca: tls.cert, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => resolve({ ...(JSON.parse(text) as { response: { allowed: boolean } }).response, ms: Date.now() - started }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const close = async () => {
    await closeServer(server);
  };
  return { review, close };
}

describe('httpQuarantineReader against a registry serving acrAttributes', () => {
  it('Quarantined is a deny; after a passing scan the digest is admitted; a failed one stays out', async () => {
    mode = 'acr';
    const w = await webhook(httpQuarantineReader({ url: registryUrl, credentials: { token: TOKEN } }));
    try {
      const before = await w.review('v1');
      expect(before.allowed).toBe(false);
      expect(before.status?.message).toContain('ERR_QUARANTINED');
      expect(before.status?.message).toContain('Quarantined');
      await q.verdict({ repository: 'acme/hub', digest: V1, generation: 1, scannerId: 'trivy', idempotencyKey: 's1', result: 'pass', principal: scanner });
      await q.verdict({ repository: 'acme/hub', digest: LATEST, generation: 1, scannerId: 'trivy', idempotencyKey: 's2', result: 'fail', principal: scanner });
      expect((await w.review('v1')).allowed).toBe(true);
      mode = 'flat';
      expect((await w.review('v1')).allowed).toBe(true);
      const failed = await w.review('latest');
      expect(failed.allowed).toBe(false);
      expect(failed.status?.message).toContain('Failed');
    } finally {
      mode = 'acr';
      await w.close();
    }
  });

  it('wrong credentials, an unknown digest and a non-http URL fail closed', async () => {
    const wrong = httpQuarantineReader({ url: registryUrl, credentials: { username: 'u', password: 'p' } });
    const query = { gun: HUB.gun, path: 'acme/hub', digest: V1, tag: 'v1', principal: { id: 'dev', roles: [] }, now: NOW };
    expect(await wrong.access(query)).toMatchObject({ visible: false, reason: 'the registry answered HTTP 401' });
    const right = httpQuarantineReader({ url: registryUrl, credentials: { token: TOKEN } });
    expect(await right.access({ ...query, digest: `sha256:${'0'.repeat(64)}` })).toMatchObject({ visible: false, reason: 'the registry does not know the digest' });
    expect(await right.access({ ...query, digest: undefined })).toMatchObject({ visible: false });
    expect(() => httpQuarantineReader({ url: 'file:///etc/passwd' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('a release is visible while it lasts, judged at the decision time', async () => {
    await q.push({ repository: 'acme/rel', digest: V1, tag: 'v1', principal: ci });
    await q.release({ repository: 'acme/rel', digest: V1, reason: 'INC-9', expiresAt: NOW.getTime() + 3_600_000, principal: { id: 'sec', roles: ['overrider'] } });
    const reader = httpQuarantineReader({ url: registryUrl, credentials: { token: TOKEN } });
    const query = { gun: 'docker.io/acme/rel', path: 'acme/rel', digest: V1, tag: 'v1', principal: { id: 'dev', roles: [] }, now: NOW };
    expect(await reader.access(query)).toEqual({ visible: true, digest: V1 });
    expect(await reader.access({ ...query, now: new Date(NOW.getTime() + 7_200_000) })).toMatchObject({ visible: false, state: 'Released' });
  });

  it('a registry that never answers is a deny within the reader timeout', async () => {
    mode = 'hang';
    const w = await webhook(httpQuarantineReader({ url: registryUrl, credentials: { token: TOKEN }, timeoutMs: 400 }));
    try {
      const a = await w.review('v1');
      expect(a.allowed).toBe(false);
      expect(a.status?.message).toContain('did not answer');
      expect(a.ms).toBeLessThan(1_500);
    } finally {
      mode = 'acr';
      await w.close();
    }
  });
});

/** `node dist/cli.js ...args` without blocking this process, whose registry the CLI asks. */
function cliAsync(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, DOCKER_CONFIG: join(ROOT, 'test', 'cli', 'fixtures', 'no-such-docker-config') };
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('trustgate check --quarantine-url', () => {
  it('asks the registry: exit 0 for a passed digest, 1 for a failed one, 2 for flags without a URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustgate-qcheck-'));
    try {
      const p = join(dir, 'policy.json');
      writeFileSync(p, JSON.stringify(policy.source));
      const creds = join(dir, 'creds.json');
      writeFileSync(creds, JSON.stringify({ token: TOKEN }));
      const args = (tag: string) => ['check', `docker.io/acme/hub:${tag}`, '--policy', p, '--trust-dir', HUB.trustDir, '--now', NOW.toISOString(), '--json', '--quarantine-url', registryUrl, '--quarantine-credentials', creds];
      const [passed, failed] = await Promise.all([cliAsync(args('v1')), cliAsync(args('latest'))]);
      expect(passed.code, passed.stderr).toBe(0);
      expect(JSON.parse(passed.stdout)).toMatchObject({ allowed: true, digest: V1 });
      expect(failed.code).toBe(1);
      expect(JSON.parse(failed.stdout)).toMatchObject({ allowed: false, code: 'ERR_QUARANTINED' });
      const stray = await cliAsync(['check', 'docker.io/acme/hub:v1', '--policy', p, '--quarantine-timeout-ms', '5']);
      expect(stray.code).toBe(2);
      expect(stray.stderr).toContain('--quarantine-timeout-ms needs --quarantine-url');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
