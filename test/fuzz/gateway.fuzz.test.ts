/**
 * Fuzzing Distribution API requests at the gateway (issue 17): fuzzed paths (names, references,
 * digests, traversal and encodings), methods, credentials, headers, queries and bodies, sent raw
 * (node:http does not normalise `..`) to a gateway with the memory store. The upstream is an
 * in-test fake registry (the e2e suites use the real docker-registry); it keeps whatever is pushed
 * and serves it back, so a leak would show.
 *
 * State: one image pushed and left Quarantined (hidden), one pushed and passed by the scanner.
 * The fuzzed callers hold no quarantine role (anonymous, a puller, a pusher, bad credentials); the
 * pusher alone may HEAD the hidden manifest (quarantine.md Q1).
 *
 * Properties: never a 5xx; never the hidden manifest's, config's or layer's bytes in a body, nor
 * its digest in Docker-Content-Digest; after a refused (4xx) request the store — every
 * repository's records and tags, the outbox — is unchanged, and the audit log gained nothing but
 * `rejected` entries (quarantine.md Q4).
 *
 * Quick profile in `npm test`; `npm run fuzz:long` scales it with FUZZ_RUNS (FUZZ_RUNS / 50 requests).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/gateway/index.js';

const RUNS = Math.max(125, Math.ceil(Number(process.env['FUZZ_RUNS'] ?? 250) / 50));
const SEED = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);
const TIMEOUT = Math.max(60_000, RUNS * 60);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

// ---------------------------------------------------------------------------------------------
// A fake upstream registry: blobs, manifests by digest and tag, uploads (monolithic, chunked, mount).

interface Fake {
  url: string;
  stop(): Promise<void>;
}

async function startFakeRegistry(): Promise<Fake> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { type: string; body: Buffer }>();
  const uploads = new Map<string, Buffer>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const u = new URL(req.url ?? '/', 'http://upstream');
      const p = u.pathname;
      const reply = (status: number, headers: Record<string, string> = {}, b: Buffer = Buffer.alloc(0)) => {
        res.writeHead(status, { 'content-length': String(b.length), ...headers });
        res.end(req.method === 'HEAD' ? undefined : b);
      };
      const err = (status: number, code: string) => reply(status, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ errors: [{ code, message: code }] })));
      let m: RegExpExecArray | null;
      if (p === '/v2/') return reply(200, { 'content-type': 'application/json' }, Buffer.from('{}'));
      if ((m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(p))) {
        const key = `${m[1]}@${m[2]}`;
        if (req.method === 'DELETE') return manifests.delete(key) ? reply(202) : err(404, 'MANIFEST_UNKNOWN');
        if (req.method === 'PUT') {
          const d = sha(body);
          manifests.set(`${m[1]}@${d}`, { type: req.headers['content-type'] ?? OCI_MANIFEST, body });
          manifests.set(key, { type: req.headers['content-type'] ?? OCI_MANIFEST, body });
          return reply(201, { location: `/v2/${m[1]}/manifests/${d}`, 'docker-content-digest': d });
        }
        const hit = manifests.get(key);
        return hit ? reply(200, { 'content-type': hit.type, 'docker-content-digest': sha(hit.body) }, hit.body) : err(404, 'MANIFEST_UNKNOWN');
      }
      if ((m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/.exec(p))) {
        const [, name, id] = m as unknown as [string, string, string];
        const digest = u.searchParams.get('digest');
        const finish = (bytes: Buffer) => {
          if (digest === null || sha(bytes) !== digest) return err(400, 'DIGEST_INVALID');
          blobs.set(digest, bytes);
          return reply(201, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest });
        };
        if (req.method === 'POST' && id === '') {
          const mount = u.searchParams.get('mount');
          if (mount !== null && blobs.has(mount)) return reply(201, { location: `/v2/${name}/blobs/${mount}`, 'docker-content-digest': mount });
          if (digest !== null) return finish(body);
          const uuid = randomUUID();
          uploads.set(uuid, Buffer.alloc(0));
          return reply(202, { location: `/v2/${name}/blobs/uploads/${uuid}`, 'docker-upload-uuid': uuid, range: '0-0' });
        }
        const have = uploads.get(id);
        if (have === undefined) return err(404, 'BLOB_UPLOAD_UNKNOWN');
        if (req.method === 'PATCH') {
          uploads.set(id, Buffer.concat([have, body]));
          return reply(202, { location: `/v2/${name}/blobs/uploads/${id}`, range: `0-${Math.max(0, have.length + body.length - 1)}` });
        }
        if (req.method === 'PUT') {
          uploads.delete(id);
          return finish(Buffer.concat([have, body]));
        }
        if (req.method === 'DELETE') uploads.delete(id);
        return reply(204);
      }
      if ((m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(p))) {
        if (req.method === 'DELETE') return blobs.delete(m[2] as string) ? reply(202) : err(404, 'BLOB_UNKNOWN');
        const hit = blobs.get(m[2] as string);
        return hit ? reply(200, { 'content-type': 'application/octet-stream', 'docker-content-digest': m[2] as string }, hit) : err(404, 'BLOB_UNKNOWN');
      }
      return err(404, 'UNSUPPORTED');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

// ---------------------------------------------------------------------------------------------

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

let port = 0;

function call(method: string, path: string, headers: http.OutgoingHttpHeaders, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const basic = (user: string) => `Basic ${Buffer.from(user).toString('base64')}`;
const CI = basic('ci:ci-pw');

async function putBlob(repo: string, bytes: Buffer): Promise<string> {
  const digest = sha(bytes);
  const r = await call('POST', `/v2/${repo}/blobs/uploads/?digest=${digest}`, { authorization: CI, 'content-type': 'application/octet-stream', 'content-length': bytes.length }, bytes);
  expect(r.status, r.body.toString()).toBe(201);
  return digest;
}

/** Pushes a one-layer image through the gateway as `ci`. */
async function pushImage(repo: string, tag: string) {
  const layer = randomBytes(512);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: randomBytes(8).toString('hex') }));
  const m = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await putBlob(repo, config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: await putBlob(repo, layer), size: layer.length }],
  };
  const body = Buffer.from(JSON.stringify(m));
  const r = await call('PUT', `/v2/${repo}/manifests/${tag}`, { authorization: CI, 'content-type': OCI_MANIFEST }, body);
  expect(r.status, r.body.toString()).toBe(201);
  return { digest: sha(body), body, layer, layerDigest: m.layers[0]?.digest as string, config, configDigest: m.config.digest };
}

/** Everything a request could record: records and tags of every repository, the audit log, the outbox. */
async function storeSnapshot(g: Gateway): Promise<{ state: string; audit: readonly { outcome: string }[] }> {
  const repos = [...(await g.store.repositories())].sort();
  const states = [];
  for (const r of repos) {
    const s = await g.store.load(r);
    states.push([r, [...s.records.entries()], [...s.tags.entries()]]);
  }
  return { state: JSON.stringify({ states, outbox: await g.store.pendingEvents(100_000) }), audit: (await g.store.readAudit()) as readonly { outcome: string }[] };
}

/**
 * After a refusal: records, tags and outbox as they were; the audit log as it was plus, at most,
 * entries of outcome `rejected` (quarantine.md Q4: a refused command is audited as `rejected`).
 */
function expectNothingRecorded(before: Awaited<ReturnType<typeof storeSnapshot>>, after: Awaited<ReturnType<typeof storeSnapshot>>, what: string): void {
  expect(after.state, `state changed by a refused ${what}`).toBe(before.state);
  expect(after.audit.slice(0, before.audit.length), `audit rewritten by ${what}`).toEqual(before.audit);
  for (const e of after.audit.slice(before.audit.length)) expect(e.outcome, `audit entry of a refused ${what}`).toBe('rejected');
}

describe(`fuzzing Distribution API requests at the gateway (${RUNS} requests)`, () => {
  let upstream: Fake;
  let g: Gateway;
  let hidden: Awaited<ReturnType<typeof pushImage>>;
  let shown: Awaited<ReturnType<typeof pushImage>>;

  beforeAll(async () => {
    upstream = await startFakeRegistry();
    g = await createGateway({
      upstream: upstream.url,
      config: {
        anonymous: true,
        users: [
          { name: 'ci', password: 'ci-pw', roles: ['push', 'pull'] },
          { name: 'dev', password: 'dev-pw', roles: ['pull'] },
          { name: 'trivy', password: 'trivy-pw', roles: ['quarantine-writer'], scannerId: 'trivy' },
        ],
        quarantine: { scanners: ['trivy'] },
      },
    });
    port = await g.listen(0, '127.0.0.1');
    hidden = await pushImage('team/app', 'v1');
    shown = await pushImage('team/app', 'ok');
    const pass = await call('PATCH', `/acr/v1/team/app/_manifests/${shown.digest}`, {
      authorization: basic('trivy:trivy-pw'),
      'content-type': 'application/json',
      'if-match': '"g1"',
      'idempotency-key': 'pass-shown',
    }, Buffer.from(JSON.stringify({ quarantineState: 'Passed' })));
    expect(pass.status, pass.body.toString()).toBe(200);
    // The webhook dispatcher acknowledges outbox events in the background (no hooks: at once), so
    // a snapshot taken around a request could see an event an earlier accepted request appended
    // vanish. Stopped and drained here, the outbox changes only by the requests under test.
    g.webhooks.stop();
    await g.webhooks.drain();
  }, 30_000);

  afterAll(async () => {
    await g?.close();
    await upstream?.stop();
  });

  it('the setup is not vacuous: a puller gets the passed image and its layer, not the quarantined one', async () => {
    const dev = { authorization: basic('dev:dev-pw'), accept: OCI_MANIFEST };
    expect((await call('GET', `/v2/team/app/manifests/ok`, dev)).body).toEqual(shown.body);
    expect((await call('GET', `/v2/team/app/blobs/${shown.layerDigest}`, dev)).body).toEqual(shown.layer);
    expect((await call('GET', `/v2/team/app/manifests/v1`, dev)).status).toBe(404);
    expect((await call('GET', `/v2/team/app/manifests/${hidden.digest}`, dev)).status).toBe(404);
    expect((await call('GET', `/v2/team/app/blobs/${hidden.layerDigest}`, dev)).status).toBe(404);
  });

  it(
    'fuzzed requests: no 5xx, no hidden content, no state from a refused request',
    async () => {
      const hex = (d: string) => d.slice('sha256:'.length);
      const digests = () => [hidden.digest, hidden.layerDigest, hidden.configDigest, shown.digest, shown.layerDigest, `sha256:${'0'.repeat(64)}`, hidden.digest.toUpperCase(), `sha512:${'a'.repeat(128)}`, 'sha256:xyz', `sha256:${hex(hidden.digest)}0`];
      const nameArb = fc.oneof(
        fc.constantFrom('team/app', 'team/app', 'team/other', 'app', '../team/app', 'team/../team/app', 'team/app/..', 'team//app', './team/app', 'Team/App', '%2e%2e/team/app', 'team/app%2F..', 'team/app/manifests/v1', '_catalog', 'a'.repeat(300)),
        fc.string({ maxLength: 20 }).map((s) => encodeURI(s)),
      );
      const refArb = fc.oneof(
        fc.constant(null).chain(() => fc.constantFrom(...digests())),
        fc.constantFrom('v1', 'ok', 'latest', `sha256-${'0'.repeat(64)}`, '..', '%2e%2e', 'v1%00', '-bad', 'x'.repeat(129), ''),
        fc.constant(null).map(() => `sha256-${hex(hidden.digest)}`),
        fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
      );
      const pathArb = fc.oneof(
        // Well-formed requests a puller makes, often, so that the handlers (not only the router) answer.
        { weight: 3, arbitrary: fc.constant(null).chain(() => fc.constantFrom('/v2/', '/v2/team/app/manifests/ok', '/v2/team/app/manifests/v1', `/v2/team/app/manifests/${hidden.digest}`, `/v2/team/app/blobs/${shown.layerDigest}`, `/v2/team/app/blobs/${hidden.layerDigest}`, '/v2/team/app/tags/list', '/v2/_catalog', `/v2/team/app/referrers/${hidden.digest}`, '/v2/team/app/blobs/uploads/')) },
        fc.tuple(nameArb, fc.constantFrom('manifests', 'blobs', 'referrers'), refArb).map(([n, k, r]) => `/v2/${n}/${k}/${r}`),
        fc.tuple(nameArb, fc.constantFrom('', 'abc', '..', 'x/y', randomUUID())).map(([n, rest]) => `/v2/${n}/blobs/uploads/${rest}`),
        nameArb.map((n) => `/v2/${n}/tags/list`),
        fc.tuple(nameArb, refArb).map(([n, r]) => `/acr/v1/${n}/_manifests/${r}`),
        fc.constantFrom('/v2/', '/v2', '/v2/_catalog', '/token', '/', '/v2/../acr/v1/team/app/_manifests', '//v2/team/app/manifests/v1', '/v2/team/app/manifests/v1/'),
        fc.string({ maxLength: 40 }).map((s) => `/${encodeURI(s)}`),
      );
      const queryArb = fc.oneof(
        fc.constant(''),
        fc.constantFrom('?n=1', '?n=-1&last=zzz', '?n=99999999999', '?artifactType=x', '?last=%00'),
        fc.constant(null).map(() => `?mount=${hidden.layerDigest}&from=team/app`),
        fc.constant(null).map(() => `?mount=${hidden.layerDigest}&from=../team/app`),
        fc.constant(null).map(() => `?digest=${hidden.layerDigest}`),
        fc.string({ maxLength: 20 }).map((s) => `?${encodeURI(s)}`),
      );
      const authArb = fc.constantFrom<string | undefined>(undefined, basic('dev:dev-pw'), basic('dev:dev-pw'), CI, CI, basic('dev:wrong'), basic('nobody:x'), 'Bearer not-a-token', 'Basic !!!', basic(':'), 'Basic', `Bearer ${'a'.repeat(3000)}`);
      const bodyArb = fc.oneof(
        fc.constant(undefined),
        fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
        fc.constant(null).map(() => hidden.body),
        fc.constant(Buffer.from(JSON.stringify({ quarantineState: 'Passed' }))),
        fc.constant(null).map(() => Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'x', digest: hidden.configDigest, size: 1 }, layers: [], subject: { mediaType: OCI_MANIFEST, digest: hidden.digest, size: hidden.body.length } }))),
      );
      const headersArb = fc.record(
        {
          'content-type': fc.constantFrom(OCI_MANIFEST, 'application/json', 'application/vnd.oci.image.index.v1+json', 'text/plain', 'application/octet-stream', ''),
          accept: fc.constantFrom(OCI_MANIFEST, '*/*', 'application/vnd.oci.image.index.v1+json', 'text/html', ''),
          range: fc.constantFrom('bytes=0-10', 'bytes=100-1', 'bytes=-5', 'lines=1', '0-0'),
          'if-match': fc.constantFrom('"g1"', '"g2"', '*', 'W/"x"'),
          'idempotency-key': fc.string({ maxLength: 10 }).map((s) => s.replace(/[^ -~]/g, 'x')),
          'content-range': fc.constantFrom('0-10', 'bytes 0-10/*', 'x'),
        },
        { requiredKeys: [] },
      );
      const secrets = () => [hidden.body, hidden.layer, hidden.config];
      const statuses = { ok: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('GET', 'GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND'),
          pathArb,
          queryArb,
          authArb,
          headersArb,
          bodyArb,
          async (method, path, query, auth, headers, body) => {
            const before = await storeSnapshot(g);
            // A body is always framed by Content-Length: node:http sends a DELETE's or GET's body
            // unframed, so the server would read it as a second, garbage request and answer that
            // one's 400 after the first (accepted) request had been recorded.
            const h: http.OutgoingHttpHeaders = { ...headers, ...(auth === undefined ? {} : { authorization: auth }), ...(body === undefined ? {} : { 'content-length': body.length }) };
            let r: Reply;
            try {
              r = await call(method, `${path}${query}`, h, body);
            } catch (e) {
              // The client refused to send it (an invalid path or header): nothing reached the gateway.
              if (e instanceof TypeError || (e as { code?: string }).code === 'ERR_INVALID_CHAR') return;
              throw e;
            }
            const what = `${method} ${path}${query} → ${r.status} ${r.body.subarray(0, 200).toString()}`;
            expect(r.status, what).toBeLessThan(500);
            for (const s of secrets()) expect(r.body.includes(s), `hidden content in ${what}`).toBe(false);
            // quarantine.md Q1: push-capable principals may HEAD a quarantined manifest (so that a
            // client's HEAD-before-PUT works); everyone else never learns its digest.
            if (!(method === 'HEAD' && auth === CI)) expect(r.headers['docker-content-digest'], what).not.toBe(hidden.digest);
            if (r.status >= 400) expectNothingRecorded(before, await storeSnapshot(g), what);
            statuses[r.status < 400 ? 'ok' : 'refused']++;
          },
        ),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
      // Both answers occur: the fuzz reaches the handlers, not only the router's refusals.
      expect(statuses.ok).toBeGreaterThan(0);
      expect(statuses.refused).toBeGreaterThan(0);
    },
    TIMEOUT,
  );
});
