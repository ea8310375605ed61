/**
 * Verification off the event loop (issue 16 item 5): a 100k-target repository (the bench
 * generator's, deterministic) is verified in a worker thread while `/healthz` is polled over a
 * keep-alive connection; the server thread must keep answering. The worker is the built one
 * (dist/admission-worker.js): `npm test` builds first.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmissionServer, createVerifierPool, parsePolicy, rememberedTrustSource, type AdmissionServer } from '../../src/admission/index.js';
// @ts-expect-error: the bench generator is plain JavaScript without types
import { GUN, NOW, SEED, generateRepo, writeTrustDir } from '../../bench/repo.mjs';
import { fixture, ROOT, selfSignedCert } from './helpers.js';

const tls = selfSignedCert();
const tmp = mkdtempSync(join(tmpdir(), 'trustgate-pool-'));
const trustDir = join(tmp, 'trust');
const policy = parsePolicy({ rules: [{ images: 'example.com/**' }], default: { action: 'deny' } });
const now = new Date(NOW as string);
/** The first target of the top-level role, named as bench/repo.mjs names it. */
const tag = `v0-${createHash('sha256').update(`${SEED as string}\u0000targets\u00000`).digest('hex').slice(0, 8)}`;
const workerUrl = pathToFileURL(join(ROOT, 'dist', 'admission-worker.js'));

beforeAll(() => {
  writeTrustDir(trustDir, generateRepo(100_000));
}, 30_000);
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(tls.dir, { recursive: true, force: true });
});

function review(): string {
  const r = structuredClone(fixture('pod.json')) as { request: { object: { spec: unknown } } };
  r.request.object.spec = { containers: [{ name: 'app', image: `${GUN as string}:${tag}` }] };
  return JSON.stringify(r);
}

function post(port: number, body: string): Promise<{ allowed: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/validate', ca: tls.cert, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let t = '';
      res.on('data', (c: Buffer) => (t += c.toString()));
      res.on('end', () => resolve((JSON.parse(t) as { response: { allowed: boolean } }).response));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Opens a keep-alive connection, then starts `work` and polls /healthz back to back on that
 * connection until it settles; returns the slowest answer in ms.
 */
async function slowestHealthz(port: number, work: () => Promise<unknown>): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: tls.cert });
  let finished = false;
  let worst = 0;
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const t = performance.now();
      request({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          worst = Math.max(worst, performance.now() - t);
          resolve();
        });
      }).on('error', reject).end();
    });
  await once(); // the handshake is not what is measured
  worst = 0;
  void work().finally(() => (finished = true));
  while (!finished) await once();
  agent.destroy();
  return worst;
}

async function listen(server: AdmissionServer): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/**
 * One cold review of the 100k-target repository while /healthz is polled: how long the review
 * took and the slowest /healthz meanwhile. The machine is shared (2 cores, other test suites), so
 * absolute times are noise; what tells the two designs apart is the ratio: a verification in the
 * server thread blocks /healthz for about as long as it runs.
 */
async function coldReview(pool: ReturnType<typeof createVerifierPool> | undefined): Promise<{ took: number; worst: number }> {
  const trust = rememberedTrustSource({ trustDir, stateDir: join(tmp, 'no-state') });
  const server = createAdmissionServer({ policy, sources: { trust }, tls, clock: () => now, ...(pool ? { decide: pool.decide } : {}), log: () => undefined });
  const port = await listen(server);
  try {
    let answer: Promise<{ allowed: boolean }> | undefined;
    let took = 0;
    const worst = await slowestHealthz(port, () => {
      const started = performance.now();
      answer = post(port, review());
      return answer.finally(() => (took = performance.now() - started));
    });
    expect(await answer).toMatchObject({ allowed: true });
    return { took, worst };
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

describe('createVerifierPool: a 100k-target repository verifies in a worker', () => {
  it('/healthz keeps answering while it verifies; in the server thread it would wait for the whole verification', async () => {
    const pool = createVerifierPool({ size: 1, workerUrl, config: { policy: policy.source, trust: { kind: 'trust-dir', trustDir, stateDir: join(tmp, 'no-state') } } });
    try {
      const off = await coldReview(pool);
      const on = await coldReview(undefined);
      const line = `worker: slowest /healthz ${off.worst.toFixed(1)} ms in a ${off.took.toFixed(0)} ms review; server thread: ${on.worst.toFixed(1)} ms in ${on.took.toFixed(0)} ms`;
      if (process.env["TRUSTGATE_POOL_REPORT"]) console.log(line);
      expect(off.worst / off.took, line).toBeLessThan(0.5);
      expect(on.worst / on.took, line).toBeGreaterThan(0.5);
      // The worker remembered the repository: a second review through it is quicker than the first.
      const t = performance.now();
      const trust = rememberedTrustSource({ trustDir, stateDir: join(tmp, 'no-state') });
      const d = await pool.decide({ image: `${GUN as string}:${tag}`, now });
      expect(d).toMatchObject({ allowed: true });
      expect(performance.now() - t).toBeLessThan(off.took);
      expect(trust.stats.verifications).toBe(0);
    } finally {
      await pool.close();
    }
  }, 40_000);

  it('a decision error crosses the thread as a TrustError deny, with its code', async () => {
    const pool = createVerifierPool({ size: 2, workerUrl, config: { policy: policy.source, trust: { kind: 'trust-dir', trustDir: join(tmp, 'empty'), stateDir: join(tmp, 'no-state') } } });
    try {
      const d = await pool.decide({ image: 'example.com/trustgate/none:v1', now });
      expect(d).toMatchObject({ allowed: false, code: 'ERR_ADMISSION_UNSIGNED' });
      expect(d.allowed === false && d.error.code).toBe('ERR_ADMISSION_UNSIGNED');
      pool.reload({ rules: [], default: { action: 'deny' } });
      expect(await pool.decide({ image: 'example.com/trustgate/none:v1', now })).toMatchObject({ allowed: false, code: 'ERR_NO_MATCHING_RULE' });
    } finally {
      await pool.close();
    }
  });
});
