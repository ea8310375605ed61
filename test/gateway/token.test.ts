/**
 * The Distribution token flow (issue 15.5): skopeo follows `WWW-Authenticate: Bearer realm=…` to
 * the gateway's own token endpoint, and the short-lived HMAC-signed token it gets carries the
 * user's roles, so quarantine still decides what it sees. Forged, tampered and expired tokens,
 * and basic credentials on registry endpoints, are refused.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { buildLayout, requireTools, skopeo, startRegistry, tempDir, type Registry, USERS } from './harness.js';

const home = tempDir('tg-home-');
let reg: Registry;
let g: Gateway;
let base: string;
let skew = 0;
const basic = (u: string) => `Basic ${Buffer.from(u).toString('base64')}`;

beforeAll(async () => {
  reg = await startRegistry();
  g = await createGateway({
    upstream: reg.url,
    clock: () => Date.now() + skew,
    config: {
      users: USERS.map((u) => ({ ...u, roles: [...u.roles] })),
      auth: { mode: 'token', service: 'gateway.test', tokenTtlSeconds: 60 },
      quarantine: { scanners: ['trivy'] },
    },
  });
  base = `127.0.0.1:${await g.listen(0, '127.0.0.1')}`;
}, 30_000);

afterAll(async () => {
  await g?.close();
  await reg?.stop();
});

async function token(user: string): Promise<string> {
  const r = await fetch(`http://${base}/token?service=gateway.test&scope=repository:app:pull`, { headers: { authorization: basic(user) } });
  expect(r.status).toBe(200);
  const body = (await r.json()) as { token: string; access_token: string; expires_in: number };
  expect(body.access_token).toBe(body.token);
  expect(body.expires_in).toBe(60);
  return body.token;
}

describe.skipIf(!requireTools)('gateway token auth', () => {
  it('challenges with a Bearer realm on itself and refuses basic credentials on the registry API', async () => {
    const r = await fetch(`http://${base}/v2/`);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe(`Bearer realm="http://${base}/token",service="gateway.test"`);
    expect((await fetch(`http://${base}/v2/`, { headers: { authorization: basic('dev:dev-pw') } })).status).toBe(401);
    expect((await fetch(`http://${base}/token`, { headers: { authorization: basic('dev:wrong') } })).status).toBe(401);
  });

  it('accepts its own token, and refuses a tampered or expired one', async () => {
    const t = await token('dev:dev-pw');
    const get = (tok: string) => fetch(`http://${base}/v2/`, { headers: { authorization: `Bearer ${tok}` } }).then((r) => r.status);
    expect(await get(t)).toBe(200);
    const [payload, mac] = t.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub: string };
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'ci' })).toString('base64url');
    expect(await get(`${forged}.${mac}`)).toBe(401);
    expect(await get(`${payload}.${mac.slice(0, -2)}AA`)).toBe(401);
    skew = 61_000;
    expect(await get(t)).toBe(401);
    skew = 0;
  });

  it('lets skopeo push and pull through the token flow, with quarantine still deciding', async () => {
    const l = buildLayout('v1');
    const push = await skopeo(['copy', '--all', '--dest-tls-verify=false', '--dest-creds', 'ci:ci-pw', `oci:${l.dir}:v1`, `docker://${base}/app:v1`], home);
    expect(push.code, push.stderr).toBe(0);
    const inspect = () => skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', 'dev:dev-pw', `docker://${base}/app:v1`], home);
    expect((await inspect()).stderr).toMatch(/manifest unknown/);
    const t = await token('trivy:trivy-pw');
    for (const d of [...l.images, l.index]) {
      const r = await fetch(`http://${base}/acr/v1/app/_manifests/${d}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json', 'if-match': '"g1"', 'idempotency-key': d },
        body: JSON.stringify({ quarantineState: 'Passed' }),
      });
      expect(r.status).toBe(200);
    }
    const r = await inspect();
    expect(r.code, r.stderr).toBe(0);
    expect(`sha256:${createHash('sha256').update(r.stdout).digest('hex')}`).toBe(l.index);
  });
});
