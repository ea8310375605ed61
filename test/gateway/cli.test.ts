/**
 * `trustgate gateway` as a process (the built bin): usage errors exit 2 naming the problem, the
 * config error names the field, and a live run serves /v2/ in front of docker-registry until
 * SIGTERM (exit 0), over HTTPS when given a certificate.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, run } from '../cli/helpers.js';
import { createHash } from 'node:crypto';
import { eventually, freePort, requireTools, startReceiver, startRegistry, tempDir, type Registry } from './harness.js';

const dir = tempDir('tg-cli-');
const configFile = join(dir, 'gateway.json');
writeFileSync(configFile, JSON.stringify({ users: [{ name: 'ci', password: 'pw', roles: ['push', 'pull'] }], quarantine: { scanners: ['trivy'] } }));

describe('trustgate gateway: usage', () => {
  it('exits 2 with the reason for a bad command line or config', () => {
    const cases: [string[], RegExp][] = [
      [['gateway'], /--upstream URL/],
      [['gateway', '--upstream', 'http://127.0.0.1:1'], /--config FILE is required/],
      [['gateway', '--upstream', 'http://127.0.0.1:1', '--config', configFile, '--listen', 'nope'], /--listen must be HOST:PORT/],
      [['gateway', '--upstream', 'http://127.0.0.1:1', '--config', configFile, '--tls-cert', 'x'], /--tls-cert and --tls-key/],
      [['gateway', '--upstream', 'http://127.0.0.1:1', '--config', configFile, '--store', 'mysql://db/x'], /--store takes a postgres:\/\//],
      [['gateway', '--upstream', 'http://127.0.0.1:1', '--config', configFile, '--store', 'postgres://db/x', '--data-dir', 'd'], /exclusive/],
      [['gateway', '--upstream', 'http://127.0.0.1:1', '--config', join(dir, 'missing.json')], /cannot read gateway config/],
    ];
    for (const [args, message] of cases) {
      const r = run(args);
      expect([r.code, r.stderr], args.join(' ')).toEqual([2, expect.stringMatching(message)]);
    }
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ users: [{ name: 'x', password: 'p', roles: ['root'] }], quarantine: { scanners: ['t'] } }));
    const r = run(['gateway', '--upstream', 'http://127.0.0.1:1', '--config', bad]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('users.0.roles.0')]);
    expect(run(['help', 'gateway']).stdout).toContain('Usage: trustgate gateway');
  });
});

/** The status of a GET (the test's own self-signed certificate accepted). */
function status(url: string, user: string | undefined): Promise<number> {
  const headers = user === undefined ? {} : { authorization: `Basic ${Buffer.from(user).toString('base64')}` };
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? https : http).get(url, { headers, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

describe.skipIf(!requireTools)('trustgate gateway: a live run', () => {
  let reg: Registry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => reg?.stop());

  async function serve(extra: string[], scheme: string): Promise<void> {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'gateway', '--upstream', reg.url, '--config', configFile, '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(d.toString()));
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    expect(JSON.parse(line)).toMatchObject({ msg: 'listening', url: `${scheme}://127.0.0.1:${port}` });
    expect(await status(`${scheme}://127.0.0.1:${port}/v2/`, undefined)).toBe(401);
    expect(await status(`${scheme}://127.0.0.1:${port}/v2/`, 'ci:pw')).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    process.kill(child.pid as number, 'SIGTERM');
    expect(await exited).toBe(0);
  }

  const dataDir = join(dir, 'data');

  it('serves over HTTP until SIGTERM, its state in the embedded store under --data-dir; a restart opens the same store', async () => {
    await serve([], 'http');
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    await serve([], 'http');
  }, 60_000);

  it('serves over HTTPS with --tls-cert and --tls-key', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    await serve(['--tls-cert', cert, '--tls-key', key], 'https');
  });
});

describe.skipIf(!requireTools)('trustgate gateway: webhooks survive a crash', () => {
  let reg: Registry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => reg?.stop());

  const SECRET = 'crash-webhook-secret-0123';
  const hooked = join(dir, 'hooked.json');
  const crashDir = join(dir, 'crash-data');

  async function start(port: number) {
    const child = spawn(process.execPath, [CLI, 'gateway', '--upstream', reg.url, '--config', hooked, '--listen', `127.0.0.1:${port}`, '--data-dir', crashDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    return child;
  }

  /** Pushes a one-config image by tag through the gateway; returns the manifest digest. */
  async function pushSmall(base: string): Promise<string> {
    const auth = { authorization: `Basic ${Buffer.from('ci:pw').toString('base64')}` };
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' }));
    const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const started = await fetch(`${base}/v2/crash/blobs/uploads/`, { method: 'POST', headers: auth });
    const loc = new URL(started.headers.get('location') as string);
    loc.searchParams.set('digest', digestOf(config));
    expect((await fetch(loc, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: config })).status).toBe(201);
    const type = 'application/vnd.oci.image.manifest.v1+json';
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: type, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length }, layers: [] }));
    expect((await fetch(`${base}/v2/crash/manifests/v1`, { method: 'PUT', headers: { ...auth, 'content-type': type }, body: manifest })).status).toBe(201);
    return digestOf(manifest);
  }

  it('delivers an event refused before a SIGKILL once the gateway restarts on the same --data-dir, with the same event id', async () => {
    const hook = await startReceiver(SECRET);
    try {
      writeFileSync(hooked, JSON.stringify({ users: [{ name: 'ci', password: 'pw', roles: ['push', 'pull'] }], quarantine: { scanners: ['trivy'] }, webhooks: [{ url: hook.url, secret: SECRET, events: ['quarantine'] }] }));
      hook.failNext(1_000_000);
      const port = await freePort();
      const first = await start(port);
      const digest = await pushSmall(`http://127.0.0.1:${port}`);
      expect(await eventually(() => hook.attempts.length >= 2, 20_000)).toBe(true);
      const killed = new Promise((resolve) => first.once('exit', resolve));
      process.kill(first.pid as number, 'SIGKILL');
      await killed;
      expect(hook.deliveries).toEqual([]);
      hook.failNext(0);
      const second = await start(port);
      try {
        expect(await eventually(() => hook.deliveries.length > 0, 20_000)).toBe(true);
        const [delivery] = hook.deliveries;
        expect(delivery).toMatchObject({ action: 'quarantine', digest, tag: 'v1' });
        // One stable id: in the payload, in the header, and in every refused attempt before the crash.
        expect(new Set([...hook.attempts, delivery?.id, delivery?.header])).toEqual(new Set([delivery?.id]));
        await new Promise((r) => setTimeout(r, 1500));
        expect(hook.deliveries).toHaveLength(1);
      } finally {
        const exited = new Promise((resolve) => second.once('exit', resolve));
        process.kill(second.pid as number, 'SIGTERM');
        await exited;
      }
    } finally {
      await hook.stop();
    }
  }, 120_000);
});
