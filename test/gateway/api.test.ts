/**
 * The gateway's HTTP surface against a real docker-registry: bad pushes refused with
 * distribution-style errors and nothing recorded or written (issue 15.2), and no leak of a
 * hidden digest by manifest, blob, tag list, catalog, mount or referrers (issue 15.3,
 * quarantine.md §4 "★ no leak via blobs or referrers"). Raw paths go through node:http, which
 * does not normalise `..`.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, parseGatewayConfig, type Gateway } from '../../src/gateway/index.js';
import { eventually, requireTools, startReceiver, startReferrersUpstream, startRegistry, type Receiver, type Registry, USERS } from './harness.js';

let reg: Registry;
let g: Gateway;
let port: number;
let hook: Receiver;
const SECRET = 'another-webhook-secret';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function call(method: string, path: string, user: string | undefined, headers: http.OutgoingHttpHeaders = {}, body?: Buffer): Promise<Reply> {
  const auth = user === undefined ? {} : { authorization: `Basic ${Buffer.from(user).toString('base64')}` };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...auth, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const CI = 'ci:ci-pw';
const DEV = 'dev:dev-pw';
const errorCode = (r: Reply) => (JSON.parse(r.body.toString()) as { errors: { code: string }[] }).errors[0]?.code;

/** Uploads a blob through the gateway (POST, then PUT to the rewritten Location). */
async function putBlob(repo: string, bytes: Buffer): Promise<string> {
  const start = await call('POST', `/v2/${repo}/blobs/uploads/`, CI);
  expect(start.status).toBe(202);
  const loc = new URL(start.headers.location as string);
  expect(loc.origin).toBe(`http://127.0.0.1:${port}`);
  const digest = sha(bytes);
  loc.searchParams.set('digest', digest);
  const done = await call('PUT', `${loc.pathname}${loc.search}`, CI, { 'content-type': 'application/octet-stream' }, bytes);
  expect(done.status, done.body.toString()).toBe(201);
  return digest;
}

/** Pushes a one-layer image (and optional subject) through the gateway; returns its digests. */
async function pushImage(repo: string, tag: string, subject?: { digest: string; size: number }): Promise<{ digest: string; layer: string; size: number }> {
  const layerBytes = randomBytes(4096);
  const layer = await putBlob(repo, layerBytes);
  const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: randomBytes(4).toString('hex') }));
  const config = await putBlob(repo, configBytes);
  const m = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: subject ? 'application/vnd.example.sbom' : 'application/vnd.oci.image.config.v1+json', digest: config, size: configBytes.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: layerBytes.length }],
    ...(subject ? { subject: { mediaType: OCI_MANIFEST, ...subject } } : {}),
  };
  const body = Buffer.from(JSON.stringify(m));
  const r = await call('PUT', `/v2/${repo}/manifests/${tag}`, CI, { 'content-type': OCI_MANIFEST }, body);
  expect(r.status, r.body.toString()).toBe(201);
  expect(r.headers['docker-content-digest']).toBe(sha(body));
  return { digest: sha(body), layer, size: body.length };
}

async function pass(repo: string, digest: string): Promise<void> {
  const scanner = `Basic ${Buffer.from('trivy:trivy-pw').toString('base64')}`;
  const r = await call('PATCH', `/acr/v1/${repo}/_manifests/${digest}`, undefined, {
    authorization: scanner,
    'content-type': 'application/json',
    'if-match': '"g1"',
    'idempotency-key': `pass-${digest}`,
  }, Buffer.from(JSON.stringify({ quarantineState: 'Passed' })));
  expect(r.status, r.body.toString()).toBe(200);
}

beforeAll(async () => {
  reg = await startRegistry();
  hook = await startReceiver(SECRET);
  g = await createGateway({
    upstream: reg.url,
    config: {
      users: USERS.map((u) => ({ ...u, roles: [...u.roles] })),
      quarantine: { scanners: ['trivy'] },
      webhooks: [{ url: hook.url, secret: SECRET, events: ['quarantine'] }],
    },
    webhooks: { pollMs: 50, backoffMs: 10 },
  });
  port = await g.listen(0, '127.0.0.1');
}, 30_000);

afterAll(async () => {
  await g?.close();
  await hook?.stop();
  await reg?.stop();
});

describe.skipIf(!requireTools)('gateway HTTP surface (docker-registry upstream)', () => {
  it('refuses bad manifests with distribution errors and records and writes nothing', async () => {
    const good = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha('x'), size: 1 }, layers: [] };
    const goodBody = Buffer.from(JSON.stringify(good));
    const cases: [string, string, string, Buffer, number, string][] = [
      ['malformed JSON', '/v2/bad/manifests/v1', OCI_MANIFEST, Buffer.from('{"schemaVersion": 2,'), 400, 'MANIFEST_INVALID'],
      ['unknown media type', '/v2/bad/manifests/v1', 'text/plain', goodBody, 400, 'MANIFEST_INVALID'],
      ['body mediaType differs', '/v2/bad/manifests/v1', 'application/vnd.docker.distribution.manifest.v2+json', goodBody, 400, 'MANIFEST_INVALID'],
      ['index type, image body', '/v2/bad/manifests/v1', 'application/vnd.oci.image.index.v1+json', Buffer.from(JSON.stringify({ ...good, mediaType: undefined })), 400, 'MANIFEST_INVALID'],
      ['digest does not match the body', `/v2/bad/manifests/${sha('other')}`, OCI_MANIFEST, goodBody, 400, 'DIGEST_INVALID'],
      ['larger than 4 MiB', '/v2/bad/manifests/v1', OCI_MANIFEST, Buffer.concat([goodBody, Buffer.alloc(4 * 1024 * 1024, 32)]), 400, 'MANIFEST_INVALID'],
      ['path traversal', '/v2/../etc/manifests/v1', OCI_MANIFEST, goodBody, 400, 'NAME_INVALID'],
      ['dot segment inside', '/v2/bad/../x/manifests/v1', OCI_MANIFEST, goodBody, 400, 'NAME_INVALID'],
      ['encoded dots', '/v2/%2e%2e/bad/manifests/v1', OCI_MANIFEST, goodBody, 400, 'NAME_INVALID'],
      ['upper case name', '/v2/Bad/manifests/v1', OCI_MANIFEST, goodBody, 400, 'NAME_INVALID'],
    ];
    for (const [label, path, type, body, status, code] of cases) {
      const r = await call('PUT', path, CI, { 'content-type': type }, body);
      expect(r.status, label).toBe(status);
      expect(errorCode(r), label).toBe(code);
    }
    const pullOnly = await call('PUT', '/v2/bad/manifests/v1', DEV, { 'content-type': OCI_MANIFEST }, goodBody);
    expect([pullOnly.status, errorCode(pullOnly)]).toEqual([403, 'DENIED']);
    expect(await g.store.repositories()).not.toContain('bad');
    const upstream = await fetch(`${reg.url}/v2/bad/manifests/${sha(goodBody)}`, { headers: { accept: OCI_MANIFEST } });
    expect(upstream.status).toBe(404);
  });

  it('answers a hidden manifest, blob and repository exactly like absent ones', async () => {
    const img = await pushImage('hidden', 'v1');
    const absent = sha('never pushed');
    const pairs: [string, string][] = [
      [`/v2/hidden/manifests/${img.digest}`, `/v2/hidden/manifests/${absent}`],
      ['/v2/hidden/manifests/v1', '/v2/hidden/manifests/v2'],
      [`/v2/hidden/blobs/${img.layer}`, `/v2/hidden/blobs/${absent}`],
      ['/v2/hidden/tags/list', '/v2/nothing-here/tags/list'],
      [`/v2/hidden/referrers/${img.digest}`, `/v2/hidden/referrers/${absent}`],
    ];
    for (const [hiddenPath, absentPath] of pairs) {
      for (const method of ['GET', 'HEAD']) {
        const [h, a] = [await call(method, hiddenPath, DEV), await call(method, absentPath, DEV)];
        expect([h.status, h.body.toString(), h.headers['content-length']], `${method} ${hiddenPath}`).toEqual([a.status, a.body.toString(), a.headers['content-length']]);
      }
    }
    expect((await call('GET', `/v2/hidden/blobs/${img.layer}`, DEV)).status).toBe(404);
    const catalog = JSON.parse((await call('GET', '/v2/_catalog', DEV)).body.toString()) as { repositories: string[] };
    expect(catalog.repositories).not.toContain('hidden');
    // A mount from a repository whose blob the pusher could not pull is a plain upload (202), as for an absent blob.
    const mount = await call('POST', `/v2/other/blobs/uploads/?mount=${img.layer}&from=hidden`, 'ci:ci-pw');
    expect(mount.status).toBe(202);
    expect((await fetch(`${reg.url}/v2/other/blobs/${img.layer}`, { method: 'HEAD' })).status).toBe(404);
  });

  it('serves a passed image, its blobs with Range, the catalog, and referrers that inherit visibility', async () => {
    const img = await pushImage('shown', 'v1');
    await pass('shown', img.digest);
    const m = await call('GET', '/v2/shown/manifests/v1', DEV, { accept: OCI_MANIFEST });
    expect([m.status, m.headers['docker-content-digest'], m.headers['content-type']]).toEqual([200, img.digest, OCI_MANIFEST]);
    expect(sha(m.body)).toBe(img.digest);
    const part = await call('GET', `/v2/shown/blobs/${img.layer}`, DEV, { range: 'bytes=0-9' });
    expect([part.status, part.body.length, part.headers['content-range']]).toEqual([206, 10, 'bytes 0-9/4096']);
    const catalog = JSON.parse((await call('GET', '/v2/_catalog', DEV)).body.toString()) as { repositories: string[] };
    expect(catalog.repositories).toContain('shown');
    const sbom = await pushImage('shown', 'sbom', { digest: img.digest, size: img.size });
    const refs = JSON.parse((await call('GET', `/v2/shown/referrers/${img.digest}`, DEV)).body.toString()) as { manifests: { digest: string; artifactType: string }[] };
    expect(refs.manifests).toEqual([expect.objectContaining({ digest: sbom.digest, artifactType: 'application/vnd.example.sbom' })]);
    const fallback = await call('GET', `/v2/shown/manifests/sha256-${img.digest.slice(7)}`, DEV);
    expect(fallback.status).toBe(200);
    expect((JSON.parse(fallback.body.toString()) as { manifests: { digest: string }[] }).manifests.map((d) => d.digest)).toEqual([sbom.digest]);
    expect(fallback.headers['docker-content-digest']).toBe(sha(fallback.body));
  });

  it('relays a large blob socket to socket: exact bytes and headers, Range, a client that goes away, and a blob the upstream lost', async () => {
    const big = randomBytes(5 * 1024 * 1024 + 123);
    const layer = await putBlob('bulk', big);
    const configBytes = Buffer.from('{"os":"linux"}');
    const config = await putBlob('bulk', configBytes);
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: configBytes.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: big.length }] }));
    expect((await call('PUT', '/v2/bulk/manifests/v1', CI, { 'content-type': OCI_MANIFEST }, body)).status).toBe(201);
    await pass('bulk', sha(body));
    for (let i = 0; i < 3; i++) {
      const r = await call('GET', `/v2/bulk/blobs/${layer}`, DEV);
      expect([r.status, r.headers['content-length'], r.headers['docker-content-digest'], sha(r.body)]).toEqual([200, String(big.length), layer, layer]);
    }
    const tail = await call('GET', `/v2/bulk/blobs/${layer}`, DEV, { range: `bytes=${big.length - 10}-` });
    expect([tail.status, tail.headers['content-range'], tail.body.equals(big.subarray(big.length - 10))]).toEqual([206, `bytes ${big.length - 10}-${big.length - 1}/${big.length}`, true]);
    // A client that reads a little and hangs up leaves the gateway serving the next one.
    await new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: `/v2/bulk/blobs/${layer}`, headers: { authorization: `Basic ${Buffer.from(DEV).toString('base64')}` } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
    });
    const again = await call('GET', `/v2/bulk/blobs/${layer}`, DEV);
    expect(sha(again.body)).toBe(layer);
    // The upstream lost the blob: its 404 goes the node:http way and answers like any absent blob.
    expect((await fetch(`${reg.url}/v2/bulk/blobs/${config}`, { method: 'DELETE' })).status).toBe(202);
    const lost = await call('GET', `/v2/bulk/blobs/${config}`, DEV);
    expect([lost.status, errorCode(lost)]).toEqual([404, 'BLOB_UNKNOWN']);
  });

  it('answers a GET, HEAD or DELETE that carries a body: its Content-Length is not passed upstream without the body', async () => {
    // Found by the gateway fuzz: the header went upstream, the body did not, and distribution
    // waited for bytes that never came, so the request hung. Each call here gets 5 s.
    const within = <T>(p: Promise<T>, what: string) =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in 5 s`)), 5000).unref())]);
    const img = await pushImage('framed', 'v1');
    await pass('framed', img.digest);
    const junk = Buffer.from('{"not":"forwarded"}');
    const framed = { 'content-length': junk.length, 'content-type': 'application/json' };
    const head = await within(call('HEAD', `/v2/framed/blobs/${img.layer}`, DEV, framed, junk), 'HEAD blob');
    expect([head.status, head.headers['content-length']]).toEqual([200, '4096']);
    const ranged = await within(call('GET', `/v2/framed/blobs/${img.layer}`, DEV, { ...framed, range: 'bytes=0-9' }, junk), 'GET blob with Range');
    expect([ranged.status, ranged.body.length]).toEqual([206, 10]);
    const start = await call('POST', '/v2/framed/blobs/uploads/', CI);
    expect(start.status).toBe(202);
    const loc = new URL(start.headers.location as string);
    const session = `${loc.pathname}${loc.search}`;
    const status = await within(call('GET', session, CI, framed, junk), 'GET upload status');
    expect([status.status, status.headers['docker-upload-uuid']]).toEqual([204, start.headers['docker-upload-uuid']]);
    const cancel = await within(call('DELETE', session, CI, framed, junk), 'DELETE upload');
    expect(cancel.status).toBe(204);
  });

  it('paginates the filtered tag list with n, last and a recomputed Link', async () => {
    const img = await pushImage('paged', 'a');
    for (const tag of ['b', 'c']) {
      const body = await fetch(`${reg.url}/v2/paged/manifests/${img.digest}`, { headers: { accept: OCI_MANIFEST } }).then(async (r) => Buffer.from(await r.arrayBuffer()));
      expect((await call('PUT', `/v2/paged/manifests/${tag}`, CI, { 'content-type': OCI_MANIFEST }, body)).status).toBe(201);
    }
    await pushImage('paged', 'hidden-tag');
    await pass('paged', img.digest);
    const first = await call('GET', '/v2/paged/tags/list?n=2', DEV);
    expect(JSON.parse(first.body.toString())).toEqual({ name: 'paged', tags: ['a', 'b'] });
    expect(first.headers.link).toBe('</v2/paged/tags/list?n=2&last=b>; rel="next"');
    const second = await call('GET', '/v2/paged/tags/list?n=2&last=b', DEV);
    expect([JSON.parse(second.body.toString()), second.headers.link]).toEqual([{ name: 'paged', tags: ['c'] }, undefined]);
  });

  it('deletes a tag and a manifest through the machine, for pushers only, and forwards the manifest delete upstream by digest', async () => {
    const img = await pushImage('deleted', 'v1');
    await pass('deleted', img.digest);
    const hidden = await pushImage('deleted', 'q1');
    const absent = sha('never pushed');
    expect((await call('GET', '/v2/deleted/manifests/v1', DEV, { accept: OCI_MANIFEST })).status).toBe(200);
    // An ordinary principal's DELETE answers alike for visible, hidden and absent content.
    const answers = [];
    for (const path of ['/v2/deleted/manifests/v1', `/v2/deleted/manifests/${img.digest}`, `/v2/deleted/manifests/${hidden.digest}`, `/v2/deleted/manifests/${absent}`, `/v2/deleted/blobs/${hidden.layer}`, `/v2/deleted/blobs/${absent}`]) {
      const r = await call('DELETE', path, DEV);
      answers.push([r.status, r.body.toString()]);
    }
    expect(new Set(answers.map((a) => JSON.stringify(a)))).toEqual(new Set([JSON.stringify([403, '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'])]));
    expect((await fetch(`${reg.url}/v2/deleted/manifests/${hidden.digest}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).status).toBe(200);

    expect((await call('DELETE', '/v2/deleted/manifests/v1', CI)).status).toBe(202);
    expect(errorCode(await call('GET', '/v2/deleted/manifests/v1', DEV))).toBe('MANIFEST_UNKNOWN');
    expect((await call('GET', `/v2/deleted/manifests/${img.digest}`, DEV, { accept: OCI_MANIFEST })).status).toBe(200);
    expect(errorCode(await call('DELETE', '/v2/deleted/manifests/v1', CI))).toBe('MANIFEST_UNKNOWN');

    expect((await call('DELETE', `/v2/deleted/manifests/${img.digest}`, CI)).status).toBe(202);
    for (const user of [DEV, 'qr:qr-pw', CI]) {
      const gone = await call('GET', `/v2/deleted/manifests/${img.digest}`, user, { accept: OCI_MANIFEST });
      expect([gone.status, errorCode(gone)], user).toEqual([404, 'MANIFEST_UNKNOWN']);
    }
    expect(errorCode(await call('GET', `/v2/deleted/blobs/${img.layer}`, DEV))).toBe('BLOB_UNKNOWN');
    expect((await fetch(`${reg.url}/v2/deleted/manifests/${img.digest}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).status).toBe(404);
    expect(errorCode(await call('DELETE', `/v2/deleted/manifests/${img.digest}`, CI))).toBe('MANIFEST_UNKNOWN');

    // A pusher's blob DELETE passes through; an absent blob gets distribution's answer.
    expect((await fetch(`${reg.url}/v2/deleted/blobs/${img.layer}`, { method: 'HEAD' })).status).toBe(200);
    expect((await call('DELETE', `/v2/deleted/blobs/${img.layer}`, CI)).status).toBe(202);
    expect((await fetch(`${reg.url}/v2/deleted/blobs/${img.layer}`, { method: 'HEAD' })).status).toBe(404);
    expect(errorCode(await call('DELETE', `/v2/deleted/blobs/${absent}`, CI))).toBe('BLOB_UNKNOWN');

    const audit = await g.store.readAudit({ repository: 'deleted' });
    const deletes = audit.filter((a) => a.command === 'deleteTag' || a.command === 'deleteManifest').map((a) => [a.command, a.actor, a.outcome, a.tag ?? a.digest]);
    expect(deletes).toEqual([
      ['deleteTag', 'ci', 'applied', 'v1'],
      ['deleteTag', 'ci', 'rejected', 'v1'],
      ['deleteManifest', 'ci', 'applied', img.digest],
      ['deleteManifest', 'ci', 'rejected', img.digest],
    ]);
  });

  it('refuses an unknown PATCH state and leaves the record as it was', async () => {
    const img = await pushImage('patched', 'v1');
    const r = await call('PATCH', `/acr/v1/patched/_manifests/${img.digest}`, 'trivy:trivy-pw', {
      'content-type': 'application/json',
      'if-match': '"g1"',
      'idempotency-key': 'k1',
    }, Buffer.from(JSON.stringify({ quarantineState: 'Approved' })));
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body.toString())).toMatchObject({ errors: [{ code: 'MANIFEST_INVALID' }] });
    expect((await g.service.view('patched')).record(img.digest)).toMatchObject({ state: 'Quarantined', generation: 1 });
    expect((await call('PATCH', `/acr/v1/patched/_manifests/${img.digest}`, DEV, {}, Buffer.from('{}'))).status).toBe(403);
  });

  it('retries a failing webhook receiver with backoff and delivers once', async () => {
    hook.failNext(2);
    const img = await pushImage('hooked', 'v1');
    expect(await eventually(() => hook.deliveries.some((d) => d.digest === img.digest))).toBe(true);
    await g.webhooks.drain();
    expect(hook.deliveries.filter((d) => d.digest === img.digest && d.action === 'quarantine')).toHaveLength(1);
  });
});

describe.skipIf(!requireTools)('gateway referrers: upstream pages and its own', () => {
  it('follows the upstream Link pages, shows only what the machine makes visible, and paginates its answer with n, last and Link', async () => {
    const front = await startReferrersUpstream(reg.url, 2);
    const paged = await createGateway({ upstream: front.url, config: { users: USERS.map((u) => ({ ...u, roles: [...u.roles] })), quarantine: { scanners: ['trivy'] } } });
    const saved = port;
    port = await paged.listen(0, '127.0.0.1');
    try {
      const subject = await pushImage('refs', 'v1');
      await pass('refs', subject.digest);
      const shown: string[] = [];
      for (let i = 0; i < 5; i++) shown.push((await pushImage('refs', `sbom-${i}`, { digest: subject.digest, size: subject.size })).digest);
      // Deleted through the gateway: still in the upstream's list, never in the gateway's.
      const deleted = shown.pop() as string;
      expect((await call('DELETE', `/v2/refs/manifests/${deleted}`, CI)).status).toBe(202);
      // Pushed around the gateway, straight to the upstream: unknown to the machine, so not shown.
      const around = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.example.sbom', digest: subject.layer, size: 4096 }, layers: [], subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size } }));
      expect((await fetch(`${front.url}/v2/refs/manifests/${sha(around)}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: around })).status).toBe(201);

      front.pagesServed.length = 0;
      const seen: string[] = [];
      let next: string | undefined = `/v2/refs/referrers/${subject.digest}?n=2`;
      let pages = 0;
      while (next !== undefined) {
        const r = await call('GET', next, DEV);
        expect(r.status).toBe(200);
        const page = (JSON.parse(r.body.toString()) as { manifests: { digest: string; artifactType: string }[] }).manifests;
        expect(page.length).toBeLessThanOrEqual(2);
        seen.push(...page.map((d) => d.digest));
        expect(page.every((d) => d.artifactType === 'application/vnd.example.sbom')).toBe(true);
        next = /^<([^>]+)>; rel="next"$/.exec(String(r.headers.link ?? ''))?.[1];
        pages++;
      }
      expect(seen).toEqual([...shown].sort());
      expect(pages).toBe(2);
      // Every upstream page, through its own Link, for each of the two requests: 6 descriptors, 2 a page.
      expect(front.pagesServed).toEqual(['', '?page=1', '?page=2', '', '?page=1', '?page=2']);
      const filtered = await call('GET', `/v2/refs/referrers/${subject.digest}?n=1&artifactType=${encodeURIComponent('application/vnd.example.sbom')}`, DEV);
      expect(filtered.headers.link).toBe(`</v2/refs/referrers/${subject.digest}?n=1&last=${encodeURIComponent([...shown].sort()[0] as string)}&artifactType=application%2Fvnd.example.sbom>; rel="next"`);
      expect(filtered.headers['oci-filters-applied']).toBe('artifactType');
      const all = JSON.parse((await call('GET', `/v2/refs/referrers/${subject.digest}`, DEV)).body.toString()) as { manifests: { digest: string }[] };
      expect(all.manifests.map((d) => d.digest)).toEqual([...shown].sort());
    } finally {
      port = saved;
      await paged.close();
      await front.stop();
    }
  });
});

describe('gateway config', () => {
  it('names the invalid field', () => {
    expect(() => parseGatewayConfig({ users: [{ name: 'a', roles: ['pull'] }], quarantine: { scanners: ['t'] } })).toThrow(/users\.0\.password: exactly one/);
    expect(() => parseGatewayConfig({ quarantine: { scanners: [] } })).toThrow(expect.objectContaining({ code: 'ERR_GATEWAY_CONFIG', message: expect.stringMatching(/quarantine\.scanners/) }));
    expect(() => parseGatewayConfig({ quarantine: { scanners: ['t'] }, webhooks: [{ url: 'ftp://x', secret: 'x'.repeat(16), events: ['push'] }] })).toThrow(/webhooks\.0\.url/);
    expect(parseGatewayConfig({ quarantine: { scanners: ['t'] } }).anonymous).toBe(false);
  });
});

describe.skipIf(!requireTools)('gateway: anonymous pull and an unreachable upstream', () => {
  it('serves anonymous pullers only what is visible, and challenges them on writes', async () => {
    const anon = await createGateway({ upstream: reg.url, config: { users: [...USERS].map((u) => ({ ...u, roles: [...u.roles] })), anonymous: true, quarantine: { scanners: ['trivy'] } } });
    const p = await anon.listen(0, '127.0.0.1');
    try {
      expect((await fetch(`http://127.0.0.1:${p}/v2/`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${p}/v2/_catalog`).then((r) => r.json())) as unknown).toEqual({ repositories: [] });
      const write = await fetch(`http://127.0.0.1:${p}/v2/app/blobs/uploads/`, { method: 'POST' });
      expect([write.status, write.headers.get('www-authenticate')]).toEqual([401, 'Basic realm="trustgate"']);
    } finally {
      await anon.close();
    }
  });

  it('cuts an upstream that accepts and never answers (502), or stalls in a body (the connection cut), after upstreamIdleMs', async () => {
    // A peer that takes the request and says nothing, or sends a head and 10 of 1000 bytes, then nothing.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((sock) => {
      sockets.add(sock);
      sock.on('data', (d) => {
        if (d.toString('latin1').startsWith('GET')) sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n0123456789');
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const up = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    const slow = await createGateway({ upstream: up, config: { users: [...USERS].map((u) => ({ ...u, roles: [...u.roles] })), quarantine: { scanners: ['trivy'] } }, upstreamIdleMs: 300 });
    const p = await slow.listen(0, '127.0.0.1');
    const auth = { authorization: `Basic ${Buffer.from(CI).toString('base64')}` };
    try {
      const t0 = performance.now();
      const r = await fetch(`http://127.0.0.1:${p}/v2/app/blobs/uploads/`, { method: 'POST', headers: auth, signal: AbortSignal.timeout(5000) });
      expect([r.status, (await r.json() as { errors: { code: string }[] }).errors[0]?.code]).toEqual([502, 'UNSUPPORTED']);
      expect(performance.now() - t0).toBeLessThan(4000);
      // Mid-body: the head was relayed, so the client sees the connection end short of its length.
      const stalled = await fetch(`http://127.0.0.1:${p}/v2/app/blobs/uploads/some-session`, { headers: auth, signal: AbortSignal.timeout(5000) });
      expect(stalled.status).toBe(200);
      await expect(stalled.arrayBuffer()).rejects.toThrow(expect.objectContaining({ name: 'TypeError' }));
    } finally {
      await slow.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('answers 502 when the upstream cannot be reached, and records nothing', async () => {
    const dead = await createGateway({ upstream: 'http://127.0.0.1:1', config: { users: [...USERS].map((u) => ({ ...u, roles: [...u.roles] })), quarantine: { scanners: ['trivy'] } } });
    const p = await dead.listen(0, '127.0.0.1');
    try {
      const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha('c'), size: 1 }, layers: [] });
      const r = await fetch(`http://127.0.0.1:${p}/v2/app/manifests/v1`, { method: 'PUT', headers: { authorization: `Basic ${Buffer.from(CI).toString('base64')}`, 'content-type': OCI_MANIFEST }, body });
      expect(r.status).toBe(502);
      expect(await dead.store.repositories()).toEqual([]);
    } finally {
      await dead.close();
    }
  });
});
