/**
 * Token auth against a real notary-server (keys in a real notary-signer, helpers/signer.ts)
 * configured with `auth: { type: token }` and a token server written here (ES256 JWTs, x5c chain
 * to a throw-away CA): anonymous first, then credentials from options, the docker config's
 * `auths` and a `docker-credential-*` helper.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../cli/helpers.js';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fetchTrustData } from '../../src/fetch/index.js';
import { lookupTarget } from '../../src/index.js';
import { freshFetchOptions, notaryMissing, Publisher, runLive, startNotaryServer, tempDir, type NotaryServer } from './helpers/notary.js';
import { startTokenServer, type TokenServer } from './helpers/token-server.js';

const REGISTRY = 'registry.test:5000';
const PUBLIC = `${REGISTRY}/auth/public`;
const PRIVATE = `${REGISTRY}/auth/private`;

describe.skipIf(!runLive)(`token auth with a real notary-server${notaryMissing ? ` (skipped: ${notaryMissing})` : ''}`, () => {
  const tmp = tempDir('trustgate-auth-');
  let server: NotaryServer;
  let tokens: TokenServer;
  const fresh = freshFetchOptions(tmp.dir, PUBLIC, () => server.url);
  const opts = (gun: string, extra: object = {}) => fresh({ ...extra, gun });

  beforeAll(async () => {
    tokens = await startTokenServer(join(tmp.dir, 'tokens'), { users: { alice: 'secret' }, publicGuns: [PUBLIC] });
    server = await startNotaryServer(join(tmp.dir, 'server'), {
      auth: { type: 'token', options: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootcertbundle: tokens.caFile, autoredirect: false } },
    });
    const pub = new Publisher(tmp.dir, server.url, { NOTARY_AUTH: Buffer.from('alice:secret').toString('base64') });
    for (const gun of [PUBLIC, PRIVATE]) {
      await pub.runAsync(['init', gun]);
      await pub.runAsync(['add', gun, 'v1', pub.file('v1', `${gun}\n`)]);
      await pub.runAsync(['publish', gun]);
    }
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await tokens?.stop();
    tmp.cleanup();
  });

  it('without a token the server refuses (the setup really enforces auth)', async () => {
    const r = await fetch(`${server.url}/v2/${PUBLIC}/_trust/tuf/timestamp.json`);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  });

  it('a public repository: one anonymous token with scope repository:<GUN>:pull, reused for every file', async () => {
    tokens.requests.length = 0;
    const r = await fetchTrustData(opts(PUBLIC));
    expect(lookupTarget(r.repository, 'v1').role).toBe('targets');
    expect(tokens.requests).toEqual([{ service: tokens.service, scope: `repository:${PUBLIC}:pull`, account: null, who: 'anonymous' }]);
    expect(r.requests).toBeGreaterThanOrEqual(5); // timestamp twice (401, then with the token), root, snapshot, targets, token
  });

  it('a private repository: anonymous first, then the credentials from options', async () => {
    tokens.requests.length = 0;
    const r = await fetchTrustData(opts(PRIVATE, { auth: { username: 'alice', password: 'secret' } }));
    expect(lookupTarget(r.repository, 'v1').role).toBe('targets');
    expect(tokens.requests.map((x) => [x.who, x.scope, x.account])).toEqual([
      ['anonymous', `repository:${PRIVATE}:pull`, null],
      ['alice', `repository:${PRIVATE}:pull`, 'alice'],
    ]);
    // Behind token auth too, the timestamp was signed by the real notary-signer.
    expect(server.signer!.signedWith()).toEqual(expect.arrayContaining([...r.repository.timestamp.signedBy]));
  });

  it('no credentials or wrong ones → ERR_FETCH_AUTH, and the password is not in the message', async () => {
    await expect(fetchTrustData(opts(PRIVATE))).rejects.toMatchObject({ code: 'ERR_FETCH_AUTH' });
    const e = (await fetchTrustData(opts(PRIVATE, { auth: { username: 'alice', password: 'wrong-pass' } })).catch((x: unknown) => x)) as Error & { code: string };
    expect(e.code).toBe('ERR_FETCH_AUTH');
    expect(e.message).not.toContain('wrong-pass');
  });

  it('the CLI: --username with --password-stdin fetches the private repository; the password never reaches the output', async () => {
    // The token server runs in this process, so the CLI must run asynchronously.
    const run = (args: string[], _env = {}, _node: string[] = [], input = '') => runAsync(args, input);
    const dir = (n: string) => ['--trust-dir', join(tmp.dir, `cli-trust-${n}`), '--state-dir', join(tmp.dir, `cli-state-${n}`)];
    const ok = await run(['fetch', `${PRIVATE}:v1`, '--server', server.url, '--username', 'alice', '--password-stdin', '--json', ...dir('a')], {}, [], 'secret\n');
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true });
    const wrong = await run(['fetch', `${PRIVATE}:v1`, '--server', server.url, '--username', 'alice', '--password-stdin', '--json', ...dir('b')], {}, [], 'not-the-secret\n');
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout).results[0].error.code).toBe('ERR_FETCH_AUTH');
    expect(wrong.stdout + wrong.stderr).not.toContain('not-the-secret');
    const none = await run(['fetch', `${PRIVATE}:v1`, '--server', server.url, '--json', ...dir('c')]);
    expect(JSON.parse(none.stdout).results[0].error.code).toBe('ERR_FETCH_AUTH');
    expect((await run(['fetch', `${PRIVATE}:v1`, '--server', server.url, '--username', 'alice'])).code).toBe(2);
    expect((await run(['fetch', `${PRIVATE}:v1`, '--server', server.url, '--password-stdin'], {}, [], 'x')).code).toBe(2);
  });

  it('credentials from the docker config: auths (base64) for the registry host', async () => {
    const dir = join(tmp.dir, 'docker-auths');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [REGISTRY]: { auth: Buffer.from('alice:secret').toString('base64') } } }));
    const r = await fetchTrustData(opts(PRIVATE, { dockerConfigDir: dir }));
    expect(lookupTarget(r.repository, 'v1').role).toBe('targets');
  });

  it('credentials from a credential helper (docker-credential-<name> get, server URL on stdin)', async () => {
    const dir = join(tmp.dir, 'docker-helper');
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ credHelpers: { [REGISTRY]: 'trustgatetest' }, auths: { [REGISTRY]: { auth: Buffer.from('alice:wrong').toString('base64') } } }));
    const helper = join(bin, 'docker-credential-trustgatetest');
    writeFileSync(helper, `#!/bin/sh\n[ "$1" = get ] || exit 1\ncat > "${join(dir, 'stdin.txt')}"\nprintf '{"ServerURL":"x","Username":"alice","Secret":"secret"}'\n`);
    chmodSync(helper, 0o755);
    const path = process.env['PATH'];
    process.env['PATH'] = `${bin}${delimiter}${path ?? ''}`;
    try {
      const r = await fetchTrustData(opts(PRIVATE, { dockerConfigDir: dir }));
      expect(lookupTarget(r.repository, 'v1').role).toBe('targets');
    } finally {
      process.env['PATH'] = path;
    }
    expect(readFileSync(join(dir, 'stdin.txt'), 'utf8')).toBe(REGISTRY);
  });
});

/** The built CLI, asynchronously (servers of this process must keep answering), with `input` on stdin. */
function runAsync(args: readonly string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, DOCKER_CONFIG: join(tmpdir(), 'trustgate-no-such-docker-config') };
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
