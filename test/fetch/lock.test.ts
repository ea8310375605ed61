/**
 * The per-GUN fetch lock across processes (src/fetch/lock.ts): two `trustgate fetch` processes on
 * one trust and state directory take turns, and a lock left by a SIGKILLed fetch is taken over
 * once it is stale, not honoured forever. The built CLI (dist/) against a real notary-server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchTrustData, readTrustedState } from '../../src/fetch/index.js';
import { STALE_MS } from '../../src/fetch/lock.js';
import { lookupTarget, verifyTrustDir } from '../../src/index.js';
import { CLI } from '../cli/helpers.js';
import { notaryListOffline, notaryMissing, Publisher, runLive, snapshotTree, startNotaryServer, tempDir, type NotaryServer } from './helpers/notary.js';
import { startProxy, type FaultProxy } from './helpers/proxy.js';

const GUN = 'registry.test:5000/lock/app';
const TS = /\/timestamp\.json$/;

/** `trustgate ARGS` without blocking this process (the proxy lives here). */
function cli(args: readonly string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: string | null; out: string }> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/nonexistent', DOCKER_CONFIG: '/nonexistent-docker-config' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, out })));
  return { child, done };
}

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!runLive)(`the fetch lock across processes${notaryMissing ? ` (skipped: ${notaryMissing})` : ''}`, () => {
  const tmp = tempDir('trustgate-lock-');
  let server: NotaryServer;
  let proxy: FaultProxy;
  let pub: Publisher;
  const trustDir = join(tmp.dir, 'trust');
  const stateDir = join(tmp.dir, 'state');
  const recordLock = join(stateDir, 'gun', ...GUN.split('/'), 'trusted-state.json.lock');
  const cacheLock = join(trustDir, 'tuf', ...GUN.split('/'), 'metadata.lock');
  const args = (extra: string[] = []) => ['fetch', '--json', GUN, '--server', proxy.url, '--trust-dir', trustDir, '--state-dir', stateDir, ...extra];

  beforeAll(async () => {
    server = await startNotaryServer(join(tmp.dir, 'server'));
    proxy = await startProxy(server.url);
    pub = new Publisher(tmp.dir, server.url);
    pub.run(['init', GUN]);
    pub.run(['add', GUN, 'v1', pub.file('v1', 'one\n')]);
    pub.run(['publish', GUN]);
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await server?.stop();
    tmp.cleanup();
  });

  it('two trustgate fetch processes on one trust and state dir take turns: never two requests at once, one download of the data, a consistent cache', async () => {
    let inFlight = 0;
    let most = 0;
    proxy.seen.length = 0;
    proxy.rule = async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 150)); // every answer is slow: overlapping fetches would show
      inFlight--;
      return undefined;
    };
    try {
      const [a, b] = await Promise.all([cli(args()).done, cli(args()).done]);
      expect(a.code, a.out).toBe(0);
      expect(b.code, b.out).toBe(0);
    } finally {
      proxy.rule = () => undefined;
    }
    expect(most).toBe(1);
    // The second ran after the first's commit: the timestamp twice, everything else once.
    expect(proxy.seen.filter((p) => TS.test(p))).toHaveLength(2);
    expect(proxy.seen.filter((p) => /\/snapshot\./.test(p))).toHaveLength(1);
    const rec = readTrustedState({ gun: GUN, stateDir })!;
    expect(lookupTarget(verifyTrustDir({ gun: GUN, trustDir, now: new Date(), trustedState: rec.trustedState }), 'v1').role).toBe('targets');
    const notary = notaryListOffline(trustDir, GUN, join(tmp.dir, 'offline-home'));
    expect(notary.rows.map((r) => r.name)).toEqual(['v1']);
    expect([existsSync(recordLock), existsSync(cacheLock)]).toEqual([false, false]);
  }, 30_000);

  it('a lock left by a SIGKILLed fetch: honoured while fresh, taken over once stale; the next fetch commits', async () => {
    pub.run(['add', GUN, 'v2', pub.file('v2', 'two\n')]);
    pub.run(['publish', GUN]);
    proxy.rule = (p) => (TS.test(p) ? new Promise(() => undefined) : undefined); // the holder hangs on the timestamp
    const holder = cli(args(['--timeout', '2m', '--deadline', '5m']));
    try {
      await until('the holder to take both locks', () => existsSync(recordLock) && existsSync(cacheLock), 10_000);
      // Alive: its lock is kept fresh and honoured.
      await expect(fetchTrustData({ gun: GUN, server: server.url, trustDir, stateDir, now: new Date(), dockerConfigDir: false, deadlineMs: 1_500 })).rejects.toMatchObject({
        code: 'ERR_FETCH_TIMEOUT',
        check: 'lock',
      });
      holder.child.kill('SIGKILL');
      expect((await holder.done).signal).toBe('SIGKILL');
    } finally {
      proxy.rule = () => undefined;
      if (holder.child.exitCode === null && holder.child.signalCode === null) holder.child.kill('SIGKILL');
    }
    expect([existsSync(recordLock), existsSync(cacheLock)]).toEqual([true, true]); // nothing cleaned up after a SIGKILL
    const before = snapshotTree(trustDir);
    const t0 = Date.now();
    const r = await fetchTrustData({ gun: GUN, server: server.url, trustDir, stateDir, now: new Date(), dockerConfigDir: false, deadlineMs: STALE_MS * 3 });
    expect(Date.now() - t0).toBeLessThan(STALE_MS * 2);
    expect(r.changed).toBe(true);
    expect(lookupTarget(r.repository, 'v2').role).toBe('targets');
    expect(snapshotTree(trustDir)).not.toEqual(before);
    expect([existsSync(recordLock), existsSync(cacheLock)]).toEqual([false, false]);
  }, 60_000);
});
