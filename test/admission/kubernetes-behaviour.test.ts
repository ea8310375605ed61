/**
 * How the webhook behaves towards the API server (issue 16 item 1), over real HTTPS with real
 * AdmissionReview JSON: UPDATE judges only changed images, warnings survive the API server's
 * filter, break-glass is limited and audited, content types, body size and connection timeouts.
 */
import { rmSync } from 'node:fs';
import { request, type Agent } from 'node:https';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmissionServer, parsePolicy } from '../../src/admission/index.js';
import { decodePatch, digestOf, fixture, HUB, NOW, selfSignedCert, vectorTrust } from './helpers.js';
import { closeServer, listenLocal } from '../helpers/listen.js';

const tls = selfSignedCert();
const logs: Record<string, unknown>[] = [];
let clock = NOW;
const policy = parsePolicy({
  breakGlass: { annotation: 'trustgate.io/break-glass', users: ['alice'], groups: ['sre'] },
  rules: [{ images: 'docker.io/acme/**' }],
  default: { action: 'deny' },
});
const server = createAdmissionServer({ policy, sources: { trust: vectorTrust() }, tls, clock: () => clock, log: (e) => logs.push(e) });
let port = 0;
beforeAll(async () => {
  port = await listenLocal(server);
});
afterAll(async () => {
  await closeServer(server);
  rmSync(tls.dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: string;
}

function post(path: string, body: string, type = 'application/json', agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path, ca: tls.cert, ...(agent ? { agent } : {}), headers: { 'content-type': type, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

type Review = { request: Record<string, unknown> & { object: Pod; oldObject?: Pod | null } };
type Pod = { metadata: Record<string, unknown>; spec: { containers: Array<{ name: string; image: string }>; initContainers?: unknown[]; ephemeralContainers?: unknown[] } };
interface Response {
  allowed: boolean;
  patch?: string;
  warnings?: string[];
  status?: { message: string };
  auditAnnotations?: Record<string, string>;
}

/** A pod with one container `app` running `image`. */
function podReview(image: string, annotations: Record<string, string> = {}, user = 'system:serviceaccount:kube-system:deployer', groups: string[] = []): Review {
  const r = structuredClone(fixture('pod.json')) as unknown as Review;
  r.request.object.spec = { containers: [{ name: 'app', image }] };
  r.request.object.metadata['annotations'] = annotations;
  r.request['userInfo'] = { username: user, groups };
  return r;
}

/** The same pod as an UPDATE: `old` is what ran before, the review's object what is asked for. */
function asUpdate(review: Review, old: Review): Review {
  review.request['operation'] = 'UPDATE';
  review.request.oldObject = old.request.object;
  return review;
}

async function answer(path: string, review: Review): Promise<Response> {
  const r = await post(path, JSON.stringify(review));
  expect(r.status).toBe(200);
  return (JSON.parse(r.body) as { response: Response }).response;
}

const pinned = `${HUB.gun}@${digestOf(HUB, 'v1')}`;

describe('UPDATE: only containers whose image changed are judged and pinned', () => {
  it('a label-only UPDATE of a running pod gets no patch, even after its trust data expired', async () => {
    const old = podReview('docker.io/acme/hub:v1');
    const labelled = asUpdate(podReview('docker.io/acme/hub:v1'), old);
    labelled.request.object.metadata['labels'] = { app: 'web', release: 'blue' };
    expect(await answer('/mutate', labelled)).toEqual(expect.objectContaining({ allowed: true }));
    expect((await answer('/mutate', labelled)).patch).toBeUndefined();
    // A year later every timestamp has expired: removing a finalizer must still be allowed.
    clock = new Date(NOW.getTime() + 365 * 86_400_000);
    try {
      const finalizer = asUpdate(podReview('docker.io/acme/hub:v1'), old);
      expect(await answer('/validate', finalizer)).toMatchObject({ allowed: true });
      // ... but a changed image is judged, and denied with the expired data.
      const changed = asUpdate(podReview('docker.io/acme/hub:latest'), old);
      expect(await answer('/validate', changed)).toMatchObject({ allowed: false });
    } finally {
      clock = NOW;
    }
  });

  it('a changed image is judged and pinned; the unchanged one beside it is left alone', async () => {
    const old = podReview('docker.io/acme/hub:v1');
    old.request.object.spec.containers.push({ name: 'side', image: 'docker.io/acme/hub:v1' });
    const next = asUpdate(podReview('docker.io/acme/hub:v1'), old);
    next.request.object.spec.containers.push({ name: 'side', image: 'docker.io/acme/hub:latest' });
    const out = await answer('/mutate', next);
    expect(out.allowed).toBe(true);
    expect(decodePatch(out.patch)).toEqual([{ op: 'replace', path: '/spec/containers/1/image', value: `${HUB.gun}@${digestOf(HUB, 'latest')}` }]);
  });

  it('an image moved to another container name counts as changed', async () => {
    const old = podReview('docker.io/acme/hub:v1');
    const renamed = asUpdate(podReview('docker.io/acme/hub:v1'), old);
    (renamed.request.object.spec.containers[0] as { name: string }).name = 'other';
    expect(decodePatch((await answer('/mutate', renamed)).patch)).toEqual([{ op: 'replace', path: '/spec/containers/0/image', value: pinned }]);
  });
});

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

describe('warnings, messages and break-glass', () => {
  it('a multi-line break-glass justification still gives a short warning without control characters', async () => {
    const why = 'INC-42: registry outage\nApproved by: bob\r\n\tticket\u2028 https://tickets.example/42';
    const out = await answer('/validate', podReview('docker.io/acme/hub:nope', { 'trustgate.io/break-glass': why }, 'alice'));
    expect(out.allowed).toBe(true);
    expect(out.warnings).toHaveLength(1);
    const w = out.warnings?.[0] as string;
    expect(w).not.toMatch(CONTROL);
    expect([...w].length).toBeLessThanOrEqual(120);
    expect(w).toMatch(/^trustgate break-glass by alice: containers\[0\] \(app\) docker\.io\/acme\/hub:nope despite ERR_ADMISSION_UNSIGNED/);
    for (const v of Object.values(out.auditAnnotations ?? {})) expect(v).not.toMatch(CONTROL);
    expect(out.auditAnnotations?.['trustgate-break-glass-by']).toBe('alice');
  });

  it('a deny message carries no control characters, even for an image name full of them', async () => {
    const out = await answer('/validate', podReview('docker.io/acme/hub:\u001b[31mred\nline'));
    expect(out.allowed).toBe(false);
    expect(out.status?.message).not.toMatch(CONTROL);
  });

  it('break-glass is limited to the policy users and groups, and the log says who used it', async () => {
    const ask = { 'trustgate.io/break-glass': 'INC-7' };
    const stranger = await answer('/validate', podReview('docker.io/acme/hub:nope', ask, 'mallory', ['dev']));
    expect(stranger.allowed).toBe(false);
    logs.length = 0;
    const sre = await answer('/validate', podReview('docker.io/acme/hub:nope', ask, 'carol', ['system:authenticated', 'sre']));
    expect(sre.allowed).toBe(true);
    expect(logs.find((l) => l['msg'] === 'admission decision')).toMatchObject({ allowed: true, user: 'carol', breakGlass: { reason: 'INC-7', by: 'carol' } });
  });

  it('the policy refuses a malformed break-glass principal list', () => {
    expect(() => parsePolicy({ breakGlass: { annotation: 'a', users: [] }, rules: [], default: {} })).toThrow(/breakGlass\.users/);
    expect(() => parsePolicy({ breakGlass: { annotation: 'a', groups: [''] }, rules: [], default: {} })).toThrow(/breakGlass\.groups/);
    expect(() => parsePolicy({ breakGlass: { annotation: 'a', roles: ['x'] }, rules: [], default: {} })).toThrow(/ERR_POLICY_INVALID|Unrecognized/);
  });
});

describe('HTTP: content type, body size, connection timeouts', () => {
  const body = JSON.stringify(podReview('docker.io/acme/hub:v1'));

  it('application/json with parameters is an AdmissionReview; json-patch+json and json-seq get 415', async () => {
    expect((await post('/validate', body, 'application/json; charset=utf-8')).status).toBe(200);
    expect((await post('/validate', body, 'Application/JSON ;charset=UTF-8')).status).toBe(200);
    for (const type of ['application/json-patch+json', 'application/json-seq', 'text/json', 'application/jsonx']) {
      expect((await post('/validate', body, type)).status, type).toBe(415);
    }
  });

  it('an UPDATE of two large objects (5 MiB) fits the default body limit', async () => {
    const old = podReview('docker.io/acme/hub:v1', { big: 'x'.repeat(2.5 * 1024 * 1024) });
    const next = asUpdate(podReview('docker.io/acme/hub:v1', { big: 'y'.repeat(2.5 * 1024 * 1024) }), old);
    expect((await post('/validate', JSON.stringify(next))).status).toBe(200);
  });

  it('keeps idle keep-alive connections, and closes silent handshakes and slow headers within seconds', async () => {
    const started = Date.now();
    // resume(): a paused socket never sees the server's end, so it would never close.
    const closedAfter = (s: { on(e: 'close', f: () => void): unknown; resume(): unknown }) => {
      s.resume();
      return new Promise<number>((r) => s.on('close', () => r(Date.now() - started)));
    };
    // A TCP connection that never says a word.
    const silent = tcpConnect(port, '127.0.0.1');
    silent.on('error', () => undefined);
    // A TLS connection that sends half a request header and stops.
    const slow = tlsConnect({ host: '127.0.0.1', port, ca: tls.cert, servername: '127.0.0.1' }, () => slow.write('POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
    slow.on('error', () => undefined);
    // A keep-alive connection idle for 6 s (longer than Node's 5 s default) is still reused.
    const kept = tlsConnect({ host: '127.0.0.1', port, ca: tls.cert, servername: '127.0.0.1' });
    let text = '';
    kept.on('data', (c: Buffer) => (text += c.toString('utf8')));
    const get = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    kept.write(get);
    const [silentMs, slowMs] = await Promise.all([closedAfter(silent), closedAfter(slow), new Promise((r) => setTimeout(r, 6_000))]);
    kept.write(get);
    await new Promise((r) => setTimeout(r, 300));
    kept.destroy();
    expect(silentMs).toBeLessThan(7_000);
    expect(slowMs).toBeLessThan(7_000);
    expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    // What the server tells the client it keeps: above the 90 s Go's client keeps idle connections.
    const announced = Number(/\r\nKeep-Alive: timeout=(\d+)/i.exec(text)?.[1]);
    expect(announced).toBeGreaterThan(90);
  }, 15_000);
});
