import { rmSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmissionServer, parsePolicy, type TrustSource } from '../../src/admission/index.js';
import { decodePatch, digestOf, fixture, HUB, NOW, selfSignedCert, vectorTrust } from './helpers.js';
import { closeServer, listenLocal } from '../helpers/listen.js';

const tls = selfSignedCert();
afterAll(() => rmSync(tls.dir, { recursive: true, force: true }));
const logs: Record<string, unknown>[] = [];
const policy = parsePolicy({ rules: [{ images: 'docker.io/acme/**' }], default: { action: 'deny' } });

interface Reply {
  status: number;
  body: string;
}

function call(port: number, method: string, path: string, body?: string | Buffer, type = 'application/json'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, ca: tls.cert, headers: body === undefined ? {} : { 'content-type': type, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function listen(server: ReturnType<typeof createAdmissionServer>): Promise<number> {
  return await listenLocal(server);
}

describe('admission server over loopback HTTPS (self-signed cert)', () => {
  const server = createAdmissionServer({
    policy,
    sources: { trust: vectorTrust() },
    tls: { cert: tls.cert, key: tls.key },
    maxBodyBytes: 64 * 1024,
    clock: () => NOW,
    log: (e) => logs.push(e),
  });
  let port = 0;
  beforeAll(async () => {
    port = await listen(server);
  });
  afterAll(async () => {
    await closeServer(server);
  });

  it('GET /healthz', async () => {
    expect(await call(port, 'GET', '/healthz')).toEqual({ status: 200, body: 'ok\n' });
  });

  it('POST /validate?timeout=10s (the query the API server adds) is the validate endpoint; other paths are 404', async () => {
    const r = await call(port, 'POST', '/validate?timeout=10s', JSON.stringify(fixture('pod.json')));
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as { response: { uid: string } }).response.uid).toBe('0b6f5a4e-1c5e-4e55-9d5c-000000000001');
    expect((await call(port, 'POST', '/validatex?timeout=10s', '{}')).status).toBe(404);
    expect((await call(port, 'GET', '/healthz?verbose')).status).toBe(200);
  });

  it('POST /validate: allowed review, one log line per image decision', async () => {
    logs.length = 0;
    const r = await call(port, 'POST', '/validate', JSON.stringify(fixture('deployment.json')));
    expect(r.status).toBe(200);
    const out = JSON.parse(r.body) as { response: { allowed: boolean; uid: string; patch?: string } };
    expect(out.response).toMatchObject({ allowed: true, uid: '0b6f5a4e-1c5e-4e55-9d5c-000000000002' });
    expect(out.response.patch).toBeUndefined();
    expect(logs).toHaveLength(3);
    expect(logs[1]).toMatchObject({
      msg: 'admission decision',
      endpoint: 'validate',
      uid: '0b6f5a4e-1c5e-4e55-9d5c-000000000002',
      kind: 'apps/Deployment',
      namespace: 'prod',
      name: 'web',
      image: 'docker.io/acme/hub:v1',
      allowed: true,
      digest: digestOf(HUB, 'v1'),
      rule: 'rules[0]',
      mode: 'enforce',
    });
  });

  it('POST /mutate: patch pins images; POST /validate of a denied pod: 403 with codes, logged', async () => {
    const m = JSON.parse((await call(port, 'POST', '/mutate', JSON.stringify(fixture('pod.json')))).body) as { response: { patch: string } };
    expect(decodePatch(m.response.patch)).toContainEqual({ op: 'replace', path: '/spec/containers/0/image', value: `${HUB.gun}@${digestOf(HUB, 'v1')}` });
    logs.length = 0;
    const r = JSON.parse((await call(port, 'POST', '/validate', JSON.stringify(fixture('pod-denied.json')))).body) as {
      response: { allowed: boolean; status: { code: number; message: string } };
    };
    expect(r.response.allowed).toBe(false);
    expect(r.response.status.code).toBe(403);
    expect(logs.map((l) => l['code'] ?? 'allowed')).toEqual(['allowed', 'ERR_ADMISSION_UNSIGNED', 'ERR_NO_MATCHING_RULE']);
  });

  it('limits and errors: 413, 415, 400, 404, 405', async () => {
    expect((await call(port, 'POST', '/validate', Buffer.alloc(65 * 1024, 0x20))).status).toBe(413);
    expect((await call(port, 'POST', '/validate', '{}', 'text/plain')).status).toBe(415);
    const bad = await call(port, 'POST', '/validate', '{"kind":"AdmissionReview"}');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: expect.stringContaining('admission.k8s.io/v1') });
    expect((await call(port, 'POST', '/nope', '{}')).status).toBe(404);
    expect((await call(port, 'GET', '/validate')).status).toBe(405);
  });
});

describe('admission server timeout', () => {
  it('answers 503 when no decision comes in time', async () => {
    const hang: TrustSource = { verify: () => new Promise(() => undefined) };
    const failures: Record<string, unknown>[] = [];
    const server = createAdmissionServer({ policy, sources: { trust: hang }, tls, timeoutMs: 200, log: (e) => failures.push(e) });
    const port = await listen(server);
    try {
      const r = await call(port, 'POST', '/validate', JSON.stringify(fixture('pod.json')));
      expect(r.status).toBe(503);
      expect(failures).toEqual([expect.objectContaining({ msg: 'admission request failed', status: 503 })]);
    } finally {
      await closeServer(server);
    }
  });
});
