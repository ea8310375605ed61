/**
 * Issue 15.8 acceptance: CNCF distribution on 127.0.0.1, the gateway in front, skopeo driving
 * both. A pushed index (two platforms, several layers) is invisible to an ordinary puller by tag
 * and by digest, copyable by digest for a quarantine reader, and visible once the scanner PATCHes
 * Passed, when exactly one `push` webhook with a valid HMAC arrives; Failed stays hidden, also
 * after a re-push; a moved tag serves the old visible digest until the new one passes.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { buildLayout, eventually, requireTools, skopeo, startReceiver, startRegistry, tempDir, type Layout, type Receiver, type Registry, USERS } from './harness.js';

const SECRET = 'webhook-secret-0123456789';
const home = tempDir('tg-home-');
let reg: Registry;
let g: Gateway;
let hook: Receiver;
let base: string;

beforeAll(async () => {
  reg = await startRegistry();
  hook = await startReceiver(SECRET);
  g = await createGateway({
    upstream: reg.url,
    config: {
      // dev's password is checked against a bcrypt hash, as htpasswd -B writes it ($2y$).
      users: USERS.map((u) => (u.name === 'dev' ? { name: 'dev', passwordHash: bcrypt.hashSync('dev-pw', 4).replace(/^\$2b\$/, '$2y$'), roles: ['pull' as const] } : { ...u, roles: [...u.roles] })),
      quarantine: { scanners: ['trivy'] },
      webhooks: [{ url: hook.url, secret: SECRET, events: ['push', 'quarantine'] }],
    },
    webhooks: { pollMs: 100, backoffMs: 20 },
  });
  base = `127.0.0.1:${await g.listen(0, '127.0.0.1')}`;
}, 30_000);

afterAll(async () => {
  await g?.close();
  await hook?.stop();
  await reg?.stop();
  rmSync(home, { recursive: true, force: true });
});

const push = (l: Layout, ref: string) => skopeo(['copy', '--all', '--dest-tls-verify=false', '--dest-creds', 'ci:ci-pw', `oci:${l.dir}:${ref.split(':')[1] ?? 'v1'}`, `docker://${base}/${ref}`], home);
const inspect = (user: string, ref: string) => skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', user, `docker://${base}/${ref}`], home);
const copyOut = (user: string, ref: string) => skopeo(['copy', '--all', '--src-tls-verify=false', '--src-creds', user, `docker://${base}/${ref}`, `oci:${tempDir('tg-out-')}:x`], home);
const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** The scanner's ACR flow (quarantine.md §1.5): GET the ETag, PATCH with If-Match and an Idempotency-Key. */
async function scan(repo: string, digest: string, state: string): Promise<Response> {
  const auth = `Basic ${Buffer.from('trivy:trivy-pw').toString('base64')}`;
  const attrs = await fetch(`http://${base}/acr/v1/${repo}/_manifests/${digest}`, { headers: { authorization: auth } });
  expect(attrs.status).toBe(200);
  const etag = attrs.headers.get('etag') as string;
  return fetch(`http://${base}/acr/v1/${repo}/_manifests/${digest}`, {
    method: 'PATCH',
    headers: { authorization: auth, 'content-type': 'application/json', 'if-match': etag, 'idempotency-key': `${digest}-${etag}` },
    body: JSON.stringify({ quarantineState: state, quarantineDetails: JSON.stringify({ state: `scan ${state.toLowerCase()}` }) }),
  });
}

async function passAll(repo: string, l: Layout): Promise<void> {
  for (const d of [...l.images, l.index]) expect((await scan(repo, d, 'Passed')).status).toBe(200);
}

describe.skipIf(!requireTools)('gateway with docker-registry and skopeo', () => {
  const v1 = buildLayout('v1');

  it('records a push as Quarantined (generation 1) and writes the upstream by digest only', async () => {
    const r = await push(v1, 'app:v1');
    expect(r.code, r.stderr).toBe(0);
    const view = await g.service.view('app');
    for (const d of [v1.index, ...v1.images]) expect(view.record(d)).toMatchObject({ state: 'Quarantined', generation: 1 });
    const tags = await fetch(`${reg.url}/v2/app/tags/list`);
    const body = (await tags.json()) as { tags?: string[] | null };
    expect(tags.status === 404 || (body.tags ?? []).length === 0).toBe(true);
    const accept = 'application/vnd.oci.image.index.v1+json';
    expect((await fetch(`${reg.url}/v2/app/manifests/${v1.index}`, { method: 'HEAD', headers: { accept } })).status).toBe(200);
    expect(await eventually(() => hook.deliveries.some((d) => d.action === 'quarantine' && d.digest === v1.index))).toBe(true);
  });

  it('hides the quarantined image from an ordinary puller by tag and by digest', async () => {
    for (const ref of ['app:v1', `app@${v1.index}`, `app@${v1.images[0]}`]) {
      const r = await inspect('dev:dev-pw', ref);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/manifest unknown/);
    }
    expect((await copyOut('dev:dev-pw', `app@${v1.index}`)).code).not.toBe(0);
  });

  it('lets a quarantine reader copy it by digest', async () => {
    const r = await copyOut('qr:qr-pw', `app@${v1.index}`);
    expect(r.code, r.stderr).toBe(0);
  });

  it('serves it to the ordinary puller once the scanner passes it, and sends one push webhook', async () => {
    await passAll('app', v1);
    const r = await inspect('dev:dev-pw', 'app:v1');
    expect(r.code, r.stderr).toBe(0);
    expect(sha(r.stdout)).toBe(v1.index);
    expect((await copyOut('dev:dev-pw', 'app:v1')).code).toBe(0);
    expect(await eventually(() => hook.deliveries.some((d) => d.action === 'push' && d.digest === v1.index))).toBe(true);
    await g.webhooks.drain();
    expect(hook.deliveries.filter((d) => d.action === 'push' && d.digest === v1.index)).toHaveLength(1);
    expect(hook.deliveries.find((d) => d.action === 'push' && d.digest === v1.index)?.tag).toBe('v1');
    expect(hook.badSignatures).toBe(0);
    // ACR's request object: the push's own request (skopeo's PUT of the index), in both payloads.
    const [quarantined, pushed] = ['quarantine', 'push'].map((a) => hook.deliveries.find((d) => d.action === a && d.digest === v1.index));
    expect(quarantined?.request).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), host: base, method: 'PUT', useragent: expect.stringMatching(/skopeo|containers/i) });
    expect(pushed?.request).toEqual(quarantined?.request);
    const ids = hook.deliveries.filter((d) => d.action === 'quarantine').map((d) => (d.request as { id: string }).id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps serving the old visible digest for a moved tag until the new one passes', async () => {
    const v2 = buildLayout('v1');
    expect((await push(v2, 'app:v1')).code).toBe(0);
    expect(sha((await inspect('dev:dev-pw', 'app:v1')).stdout)).toBe(v1.index);
    await passAll('app', v2);
    expect(sha((await inspect('dev:dev-pw', 'app:v1')).stdout)).toBe(v2.index);
  });

  it('keeps a Failed image hidden, also after a re-push of the same digest', async () => {
    const bad = buildLayout('bad');
    expect((await push(bad, 'app:bad')).code).toBe(0);
    for (const d of bad.images) expect((await scan('app', d, 'Passed')).status).toBe(200);
    expect((await scan('app', bad.index, 'Failed')).status).toBe(200);
    expect((await inspect('dev:dev-pw', 'app:bad')).code).not.toBe(0);
    expect((await push(bad, 'app:bad')).code).toBe(0);
    const view = await g.service.view('app');
    expect(view.record(bad.index)?.state).toBe('Failed');
    expect((await inspect('dev:dev-pw', 'app:bad')).code).not.toBe(0);
    expect((await inspect('dev:dev-pw', `app@${bad.index}`)).code).not.toBe(0);
    await g.webhooks.drain();
    expect(hook.deliveries.filter((d) => d.action === 'push' && d.digest === bad.index)).toHaveLength(0);
  });

  it('deletes by digest for a pusher with skopeo delete; the digest is gone through the gateway and upstream', async () => {
    const gone = buildLayout('gone');
    expect((await push(gone, 'app:gone')).code).toBe(0);
    await passAll('app', gone);
    expect((await inspect('dev:dev-pw', 'app:gone')).code).toBe(0);
    const del = (user: string, ref: string) => skopeo(['delete', '--tls-verify=false', '--creds', user, `docker://${base}/${ref}`], home);
    expect((await del('dev:dev-pw', `app@${gone.index}`)).code).not.toBe(0);
    expect((await inspect('dev:dev-pw', `app@${gone.index}`)).code).toBe(0);
    const r = await del('ci:ci-pw', `app@${gone.index}`);
    expect(r.code, r.stderr).toBe(0);
    for (const ref of ['app:gone', `app@${gone.index}`]) expect((await inspect('dev:dev-pw', ref)).stderr).toMatch(/manifest unknown/);
    expect((await fetch(`${reg.url}/v2/app/manifests/${gone.index}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.index.v1+json' } })).status).toBe(404);
    expect((await g.store.readAudit({ repository: 'app', digest: gone.index })).some((a) => a.command === 'deleteManifest' && a.actor === 'ci')).toBe(true);
  });

  it('refuses an ordinary puller without credentials (anonymous is off by default)', async () => {
    const r = await skopeo(['inspect', '--raw', '--tls-verify=false', '--no-creds', `docker://${base}/app:v1`], home);
    expect(r.code).not.toBe(0);
  });
});
