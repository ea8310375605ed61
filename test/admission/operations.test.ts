/**
 * Operations (issue 16 item 6): `/metrics` in Prometheus text format, `/readyz` apart from
 * `/healthz`, policy and certificate reload without dropping requests, and draining on SIGTERM,
 * over real HTTPS with real AdmissionReview JSON — in-process and through `admission serve`.
 */
import { builtinModules } from 'node:module';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { createAdmissionServer, rememberedTrustSource, type AdmissionServer, type TrustSource } from '../../src/admission/index.js';
import { fixture, HUB, NOW, ROOT, selfSignedCert, startServe, vectorTrust } from './helpers.js';
import { closeServer, listenLocal } from '../helpers/listen.js';

const tlsA = selfSignedCert();
const tlsB = selfSignedCert();
const tmp = mkdtempSync(join(tmpdir(), 'trustgate-ops-'));
afterAll(() => {
  for (const d of [tlsA.dir, tlsB.dir, tmp]) rmSync(d, { recursive: true, force: true });
});
const allowAcme = { rules: [{ images: 'docker.io/acme/**' }], default: { action: 'deny' } };
const denyAll = { rules: [], default: { action: 'deny' } };

function podReview(image = 'docker.io/acme/hub:v1'): string {
  const r = structuredClone(fixture('pod.json')) as { request: { object: { spec: unknown } } };
  r.request.object.spec = { containers: [{ name: 'app', image }] };
  return JSON.stringify(r);
}

async function listen(server: AdmissionServer): Promise<number> {
  return await listenLocal(server);
}

function call(port: number, path: string, body?: string, ca: string = `${tlsA.cert}${tlsB.cert}`): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request({ host: '127.0.0.1', port, method: body === undefined ? 'GET' : 'POST', path, ca, agent: false, headers }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The fingerprint of the certificate a fresh TLS connection is shown. */
function servedCert(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()?.fingerprint256 ?? '');
      s.end();
    });
    s.on('error', reject);
  });
}

const allowed = (r: { body: string }) => (JSON.parse(r.body) as { response: { allowed: boolean } }).response.allowed;

describe('metrics, readiness, reload, drain (in-process)', () => {
  it('/metrics counts decisions by outcome, code and rule, times requests, and ages the trust data per GUN', async () => {
    const trust = rememberedTrustSource({ trustDir: HUB.trustDir, stateDir: join(tmp, 'no-state') });
    const server = createAdmissionServer({ policy: allowAcme, sources: { trust }, tls: tlsA, clock: () => NOW, log: () => undefined });
    const port = await listen(server);
    try {
      await call(port, '/validate', podReview());
      await call(port, '/validate', podReview('docker.io/acme/hub:nope'));
      const m = await call(port, '/metrics');
      expect(m.status).toBe(200);
      expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(m.body).toContain('trustgate_admission_decisions_total{endpoint="validate",outcome="allow",code="",rule="rules[0]"} 1');
      expect(m.body).toContain('trustgate_admission_decisions_total{endpoint="validate",outcome="deny",code="ERR_ADMISSION_UNSIGNED",rule="rules[0]"} 1');
      expect(m.body).toMatch(/trustgate_admission_request_duration_seconds_count\{endpoint="validate",status="200"\} 2/);
      expect(m.body).toContain(`trustgate_trust_data_age_seconds{gun="${HUB.gun}"} 0`);
      expect(m.body).toContain('trustgate_trust_fetch_errors_total 0');
    } finally {
      await closeServer(server);
    }
  });

  it('/readyz follows readiness, /healthz does not', async () => {
    let why: string | undefined = 'trust sources loading';
    const server = createAdmissionServer({ policy: allowAcme, sources: { trust: vectorTrust() }, tls: tlsA, readiness: () => why, log: () => undefined });
    const port = await listen(server);
    try {
      expect(await call(port, '/readyz')).toMatchObject({ status: 503, body: 'not ready: trust sources loading\n' });
      expect((await call(port, '/healthz')).status).toBe(200);
      why = undefined;
      expect((await call(port, '/readyz')).status).toBe(200);
    } finally {
      await closeServer(server);
    }
  });

  it('reload swaps policy and certificate for new requests; a bad policy changes nothing', async () => {
    const server = createAdmissionServer({ policy: allowAcme, sources: { trust: vectorTrust() }, tls: tlsA, clock: () => NOW, log: () => undefined });
    const port = await listen(server);
    try {
      const fpA = new X509Certificate(tlsA.cert).fingerprint256;
      const fpB = new X509Certificate(tlsB.cert).fingerprint256;
      expect(await servedCert(port)).toBe(fpA);
      expect(allowed(await call(port, '/validate', podReview()))).toBe(true);
      expect(() => server.reload({ policy: { rules: 'nope' } })).toThrow(expect.objectContaining({ code: 'ERR_POLICY_INVALID' }));
      expect(allowed(await call(port, '/validate', podReview()))).toBe(true);
      server.reload({ policy: denyAll, tls: tlsB });
      expect(await servedCert(port)).toBe(fpB);
      expect(allowed(await call(port, '/validate', podReview()))).toBe(false);
    } finally {
      await closeServer(server);
    }
  });

  it('reload under traffic: every review is answered, by the old policy or the new one, none dropped', async () => {
    const server = createAdmissionServer({ policy: allowAcme, sources: { trust: vectorTrust() }, tls: tlsA, clock: () => NOW, log: () => undefined });
    const port = await listen(server);
    try {
      let stop = false;
      const answers: Array<{ status: number; body: string }> = [];
      const client = async () => {
        while (!stop) answers.push(await call(port, '/validate', podReview()));
      };
      const clients = Array.from({ length: 4 }, client);
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 60));
        server.reload({ policy: i % 2 === 0 ? denyAll : allowAcme, tls: i % 2 === 0 ? tlsB : tlsA });
      }
      stop = true;
      await Promise.all(clients);
      expect(answers.length).toBeGreaterThan(6);
      expect(answers.every((a) => a.status === 200)).toBe(true);
      const outcomes = new Set(answers.map(allowed));
      expect(outcomes).toEqual(new Set([true, false]));
    } finally {
      await closeServer(server);
    }
  });

  it('drain lets a review in flight finish, then closes', async () => {
    const inner = vectorTrust();
    const slow: TrustSource = { verify: async (q) => (await new Promise((r) => setTimeout(r, 400)), inner.verify(q)) };
    const server = createAdmissionServer({ policy: allowAcme, sources: { trust: slow }, tls: tlsA, clock: () => NOW, log: () => undefined });
    const port = await listen(server);
    const inFlight = call(port, '/validate', podReview());
    await new Promise((r) => setTimeout(r, 100));
    const drained = server.drain(5_000);
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(allowed(answer)).toBe(true);
    await drained;
    await expect(call(port, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' }); // the listener is closed once drained
  });
});

describe('admission serve: SIGHUP reload and SIGTERM drain', () => {
  it('SIGHUP, or a changed file, reloads the policy and certificate; /readyz and /metrics answer', async () => {
    const policy = join(tmp, 'policy.json');
    writeFileSync(policy, JSON.stringify(allowAcme));
    // The server's TLS files, rewritten in place to tlsB's before the SIGHUP.
    const files = selfSignedCert();
    const child = await startServe(['--policy', policy, '--trust-dir', HUB.trustDir, '--state-dir', join(tmp, 'no-state'), '--now', NOW.toISOString()], { cert: `${files.cert}${tlsB.cert}`, dir: files.dir });
    try {
      // Ready once it listens and its verifier worker has started (a moment after "listening").
      await expect.poll(async () => (await child.call('GET', '/readyz')).status, { timeout: 10_000, interval: 100 }).toBe(200);
      expect(allowed(await child.call('POST', '/validate', podReview()))).toBe(true);
      writeFileSync(policy, JSON.stringify(denyAll));
      copyFileSync(join(tlsB.dir, 'cert.pem'), join(files.dir, 'cert.pem'));
      copyFileSync(join(tlsB.dir, 'key.pem'), join(files.dir, 'key.pem'));
      child.signal('SIGHUP');
      await expect.poll(() => child.out(), { timeout: 3_000 }).toContain('reloaded policy and certificate');
      expect(await servedCert(child.port)).toBe(new X509Certificate(tlsB.cert).fingerprint256);
      expect(allowed(await child.call('POST', '/validate', podReview()))).toBe(false);
      expect((await child.call('GET', '/metrics')).body).toContain('trustgate_admission_decisions_total{endpoint="validate",outcome="deny",code="ERR_NO_MATCHING_RULE",rule="default"} 1');
      // Without a signal: a changed policy file is noticed by polling.
      writeFileSync(policy, JSON.stringify({ ...allowAcme, mode: 'enforce' }));
      await expect.poll(async () => allowed(await child.call('POST', '/validate', podReview())), { timeout: 8_000, interval: 250 }).toBe(true);
      expect(child.out()).toContain('"why":"file changed"');
      expect(await child.stop()).toBe(0);
    } finally {
      child.cleanup();
      rmSync(files.dir, { recursive: true, force: true });
    }
  });

  it('/metrics is current at the scrape with worker threads: a review, then at once the age of its trust data and a failed fetch', async () => {
    const policy = join(tmp, 'metrics-policy.json');
    writeFileSync(policy, JSON.stringify(allowAcme));
    const child = await startServe(['--policy', policy, '--trust-dir', HUB.trustDir, '--state-dir', join(tmp, 'no-state'), '--now', NOW.toISOString(), '--workers', '2'], tlsA);
    try {
      expect(allowed(await child.call('POST', '/validate', podReview()))).toBe(true);
      const m = (await child.call('GET', '/metrics')).body;
      expect(m).toContain('trustgate_admission_decisions_total{endpoint="validate",outcome="allow",code="",rule="rules[0]"} 1');
      expect(m).toContain(`trustgate_trust_data_age_seconds{gun="${HUB.gun}"} 0`);
    } finally {
      expect(await child.stop()).toBe(0);
      child.cleanup();
    }
    // Online, against a port nobody listens on: the failed fetch is counted before the next scrape.
    const closed = createHttpServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
    const online = join(tmp, 'metrics-online.json');
    writeFileSync(online, JSON.stringify({ online: true, ...allowAcme }));
    const args = ['--policy', online, '--trust-dir', join(tmp, 'metrics-trust'), '--state-dir', join(tmp, 'metrics-state'), '--server', url, '--deadline', '2s', '--workers', '1'];
    const onlineChild = await startServe(args, tlsA);
    try {
      expect((await onlineChild.call('GET', '/metrics')).body).toContain('trustgate_trust_fetch_errors_total 0');
      const r = await onlineChild.call('POST', '/validate', podReview());
      expect(allowed(r)).toBe(false);
      expect((await onlineChild.call('GET', '/metrics')).body).toContain('trustgate_trust_fetch_errors_total 1');
    } finally {
      expect(await onlineChild.stop()).toBe(0);
      onlineChild.cleanup();
    }
  });

  it('SIGTERM while a review waits on a slow notary server: the review is still answered, then exit 0', async () => {
    const hung: ServerResponse[] = [];
    const notary = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      hung.push(res);
      res.write(' ');
    });
    await new Promise<void>((r) => notary.listen(0, '127.0.0.1', r));
    const policy = join(tmp, 'online.json');
    writeFileSync(policy, JSON.stringify({ online: true, ...allowAcme }));
    const url = `http://127.0.0.1:${(notary.address() as AddressInfo).port}`;
    const args = ['--policy', policy, '--trust-dir', join(tmp, 'online-trust'), '--state-dir', join(tmp, 'online-state'), '--server', url, '--deadline', '1500ms'];
    const child = await startServe(args, tlsA);
    try {
      const started = Date.now();
      const inFlight = child.call('POST', '/validate', podReview());
      await new Promise((r) => setTimeout(r, 300));
      const exit = child.stop('SIGTERM');
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(answer.body).toContain('ERR_FETCH_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(await exit).toBe(0);
    } finally {
      child.cleanup();
      for (const r of hung) r.destroy();
      await closeServer(notary);
    }
  });
});

describe('packaging', () => {
  /** Every module a built entry loads, following static imports through the chunks. */
  function graph(entry: string): Set<string> {
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      if (!file.startsWith('/')) return;
      for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^'"]*['"]([^'"]+)['"]/gm)) {
        const spec = m[1] as string;
        walk(spec.startsWith('.') ? join(file, '..', spec) : spec);
      }
    };
    walk(join(ROOT, 'dist', entry));
    return seen;
  }

  it('prom-client is loaded by trustgate/admission only, never by the plain verifier', () => {
    const plain = graph('index.js');
    expect(plain.size).toBeGreaterThan(3);
    expect(plain.has('prom-client')).toBe(false);
    expect(graph('admission.js').has('prom-client')).toBe(true);
  });

  /** The packages (not node: builtins, not our chunks) an entry loads. */
  const packages = (entry: string) => [...graph(entry)].filter((m) => !m.startsWith('/') && !m.startsWith('node:') && !builtinModules.includes(m)).sort();

  it('each entry loads the packages the README names for it, and the plain verifier only zod', () => {
    expect(packages('index.js')).toEqual(['zod']);
    expect(packages('fetch.js')).toEqual(['proper-lockfile', 'zod']);
    expect(packages('admission.js')).toEqual(expect.arrayContaining(['prom-client', 'zod']));
    expect(packages('gateway.js')).toEqual(expect.arrayContaining(['bcryptjs', 'zod']));
    for (const entry of ['index.js', 'fetch.js', 'admission.js', 'gateway.js', 'quarantine.js']) {
      expect(packages(entry), entry).not.toContain('pg');
      expect(packages(entry), entry).not.toContain('@electric-sql/pglite');
    }
  });
});
