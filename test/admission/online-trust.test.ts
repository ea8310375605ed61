/**
 * Online trust (issue 16 item 3) against a real notary-server (memory storage) with a repository
 * published by the real notary CLI, seen through the fault proxy of test/fetch: reviews go to the
 * real webhook server over HTTPS; a slow server must become a fast, clear deny.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmissionServer, onlineTrustSource, parsePolicy, type OnlineTrustSource } from '../../src/admission/index.js';
import { fetchBudgetMs } from '../../src/admission/online-trust.js';
import { startProxy, type FaultProxy } from '../fetch/helpers/proxy.js';
import { notaryMissing, Publisher, runLive, startNotaryServer, tempDir, type NotaryServer } from '../fetch/helpers/notary.js';
import { run as runCli } from '../cli/helpers.js';
import { fixture, selfSignedCert } from './helpers.js';
import { closeServer, listenLocal } from '../helpers/listen.js';

const GUN = 'registry.test:5000/online/app';
const policy = parsePolicy({ online: true, rules: [{ images: 'registry.test:5000/**' }], default: { action: 'deny' } });
const tls = selfSignedCert();

function podReview(image: string): string {
  const r = structuredClone(fixture('pod.json')) as { request: { object: { spec: unknown } } };
  r.request.object.spec = { containers: [{ name: 'app', image }] };
  return JSON.stringify(r);
}

describe.skipIf(!runLive)(`online trust from a live notary-server${notaryMissing ? ` (skipped: ${notaryMissing})` : ''}`, () => {
  const tmp = tempDir('trustgate-online-');
  let notary: NotaryServer;
  let proxy: FaultProxy;
  let n = 0;
  let clock = new Date();

  /** A webhook server with its own empty trust cache, fetching through the proxy. */
  async function webhook(extra: Partial<Parameters<typeof onlineTrustSource>[0]> = {}) {
    const dir = join(tmp.dir, `client-${n++}`);
    const trust = onlineTrustSource({ server: proxy.url, trustDir: join(dir, 'trust'), stateDir: join(dir, 'state'), dockerConfigDir: false, retries: 0, deadlineMs: 1_000, ...extra });
    const server = createAdmissionServer({ policy, sources: { trust }, tls, timeoutMs: 3_000, clock: () => clock, log: () => undefined });
    const port = await listenLocal(server);
    const review = (image = `${GUN}:v1`) =>
      new Promise<{ allowed: boolean; status?: { message: string }; ms: number }>((resolve, reject) => {
        const started = Date.now();
        const body = podReview(image);
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/validate', ca: tls.cert, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString('utf8')));
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`status ${String(res.statusCode)}: ${text}`));
            else resolve({ ...(JSON.parse(text) as { response: { allowed: boolean; status?: { message: string } } }).response, ms: Date.now() - started });
          });
        });
        req.on('error', reject);
        req.end(body);
      });
    const close = async () => {
      await closeServer(server);
    };
    return { trust: trust as OnlineTrustSource, review, close };
  }

  beforeAll(async () => {
    notary = await startNotaryServer(join(tmp.dir, 'server'));
    const pub = new Publisher(tmp.dir, notary.url);
    pub.run(['init', GUN]);
    pub.run(['add', GUN, 'v1', pub.file('v1', 'online one\n')]);
    pub.run(['publish', GUN]);
    proxy = await startProxy(notary.url);
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await notary?.stop();
    tmp.cleanup();
  });

  it('fetches on first use, once for concurrent reviews of one GUN, and serves later reviews from the TTL cache', async () => {
    clock = new Date();
    proxy.rule = () => undefined;
    const w = await webhook();
    try {
      const answers = await Promise.all(Array.from({ length: 8 }, () => w.review()));
      expect(answers.every((a) => a.allowed)).toBe(true);
      expect(w.trust.stats.fetches).toBe(1);
      const asked = proxy.seen.length;
      expect((await w.review()).allowed).toBe(true);
      expect(proxy.seen.length).toBe(asked);
      expect(w.trust.ageMs(GUN, clock)).toBe(0);
    } finally {
      await w.close();
    }
  });

  it('a notary server that trickles its answer is a deny within the fetch deadline, not a webhook timeout', async () => {
    clock = new Date();
    proxy.rule = () => ({ slow: true, everyMs: 200 });
    const w = await webhook();
    try {
      const a = await w.review();
      expect(a.allowed).toBe(false);
      expect(a.status?.message).toContain('ERR_FETCH_TIMEOUT');
      expect(a.ms).toBeLessThan(2_000);
    } finally {
      proxy.rule = () => undefined;
      await w.close();
    }
  });

  it('stale data is served only within the maximum age; background refresh starts before expiry', async () => {
    const start = new Date();
    clock = start;
    proxy.rule = () => undefined;
    const w = await webhook({ ttlMs: 60_000, maxStaleMs: 5 * 60_000 });
    try {
      expect((await w.review()).allowed).toBe(true);
      proxy.rule = () => ({ slow: true, everyMs: 200 });
      // 2 minutes on: older than the TTL, within the maximum age: served at once, refreshed behind.
      clock = new Date(start.getTime() + 2 * 60_000);
      const stale = await w.review();
      expect(stale.allowed).toBe(true);
      expect(stale.ms).toBeLessThan(500);
      expect(w.trust.stats).toMatchObject({ fetches: 2, staleServed: 1 });
      await new Promise((r) => setTimeout(r, 1_200)); // the background refresh hits its deadline
      expect(w.trust.stats.fetchErrors).toBe(1);
      // 10 minutes on: beyond the maximum age, so the server must answer, and it does not.
      clock = new Date(start.getTime() + 10 * 60_000);
      const old = await w.review();
      expect(old.allowed).toBe(false);
      expect(old.status?.message).toContain('ERR_FETCH_TIMEOUT');
    } finally {
      proxy.rule = () => undefined;
      await w.close();
    }
  });

  it('refreshes in the background once the timestamp is about to expire', async () => {
    clock = new Date();
    proxy.rule = () => undefined;
    const w = await webhook({ ttlMs: 3_600_000, refreshBeforeExpiryMs: 3 * 86_400_000 });
    try {
      expect((await w.review()).allowed).toBe(true);
      expect(w.trust.stats.fetches).toBe(1);
      // notary-server's timestamp lasts 14 days: 12 days on, it is within the 3-day window.
      clock = new Date(clock.getTime() + 12 * 86_400_000 + 60_000);
      const a = await w.review();
      expect(a.allowed).toBe(true);
      expect(w.trust.stats.fetches).toBe(2);
    } finally {
      await w.close();
    }
  });
});

describe('the fetch budget under a review deadline', () => {
  it('leaves a tenth of the deadline, at most 100 ms, to answer the review within it', () => {
    expect([50, 999, 1000, 5000, 30_000].map(fetchBudgetMs)).toEqual([45, 900, 900, 4900, 29_900]);
  });
});

describe('admission serve --online flags', () => {
  it('a fetch deadline that does not fit in the request timeout is a usage error', () => {
    const dir = tempDir('trustgate-online-cli-');
    try {
      const p = join(dir.dir, 'p.json');
      writeFileSync(p, JSON.stringify({ rules: [], default: {} }));
      const args = ['admission', 'serve', '--policy', p, '--tls-cert', join(tls.dir, 'cert.pem'), '--tls-key', join(tls.dir, 'key.pem'), '--online', '--timeout-ms', '2000', '--deadline', '5s'];
      const r = runCli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--deadline (5000 ms) must be shorter than --timeout-ms (2000 ms)');
    } finally {
      dir.cleanup();
    }
  });

  it('--config (servers per registry) is read at start: a missing or invalid file is a usage error naming it', () => {
    const dir = tempDir('trustgate-online-cli-');
    try {
      const p = join(dir.dir, 'p.json');
      writeFileSync(p, JSON.stringify({ rules: [], default: {} }));
      const bad = join(dir.dir, 'config.json');
      writeFileSync(bad, JSON.stringify({ registries: { 'registry.test:5000': { server: 'https://n.example', tlsCa: 'nope.pem' } } }));
      const args = ['admission', 'serve', '--policy', p, '--tls-cert', join(tls.dir, 'cert.pem'), '--tls-key', join(tls.dir, 'key.pem'), '--online'];
      const missing = runCli([...args, '--config', join(dir.dir, 'missing.json')]);
      expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/config file .*missing\.json: cannot read it/)]);
      const invalid = runCli(args, { TRUSTGATE_CONFIG: bad });
      expect([invalid.code, invalid.stderr]).toEqual([2, expect.stringContaining(`registries["registry.test:5000"].tlsCa: cannot read ${join(dir.dir, 'nope.pem')}`)]);
    } finally {
      dir.cleanup();
    }
  });
});
