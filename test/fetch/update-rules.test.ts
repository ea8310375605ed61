/**
 * The fetch's update rules (src/fetch/fetch.ts, notary-rules.md §7.2–§7.8) against an in-test
 * static server on 127.0.0.1 that serves the real Notary vectors as notary-server does (plain
 * and checksum names, `<N>.root.json`): what is downloaded and what is reused from the cache, a
 * root rotation through its intermediate versions, delegations by snapshot entry, the commit and
 * its guard against a concurrent fetch, and the stale fallback. The live suites run the same
 * flows against a real notary-server; these run in milliseconds (and under mutation testing).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchTrustData, readTrustedState } from '../../src/fetch/index.js';
import { writeTrustedState } from '../../src/fetch/state.js';
import { NOTARY } from '../helpers/vectors.js';
import { StaticNotary, staticFetchOptions } from './helpers/static-notary.js';

interface Scenario {
  gun: string;
  now: Date;
  dir: string;
}
const scenarioOf = (name: string): Scenario => {
  const dir = join(NOTARY, name);
  const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { gun: string; generated_at: string };
  return { gun: e.gun, now: new Date(e.generated_at), dir };
};
const ROT = scenarioOf('root-rotation');
const DELEG = scenarioOf('delegation');
const metadataOf = (trustDir: string, gun: string) => join(trustDir, 'tuf', ...gun.split('/'), 'metadata');

const server = new StaticNotary();
const tmp = mkdtempSync(join(tmpdir(), 'trustgate-update-rules-'));
let n = 0;

/** Fresh trust and state directories, the trust dir optionally seeded from a vector trust dir. */
function dirs(seed?: { from: string; gun: string }): { trustDir: string; stateDir: string } {
  const d = join(tmp, `case-${n++}`);
  const trustDir = join(d, 'trust');
  const stateDir = join(d, 'state');
  mkdirSync(trustDir, { recursive: true });
  if (seed) cpSync(metadataOf(seed.from, seed.gun), metadataOf(trustDir, seed.gun), { recursive: true });
  return { trustDir, stateDir };
}

const opts = (s: Scenario, d: { trustDir: string; stateDir: string }, extra: object = {}) => staticFetchOptions(server.url, s.gun, s.now, d, extra);

const fetchNames = async (o: Parameters<typeof fetchTrustData>[0]) => {
  server.seen.length = 0;
  const r = await fetchTrustData(o);
  return { r, seen: [...server.seen] };
};
const plain = (names: string[]) => names.map((x) => x.replace(/\.[0-9a-f]{64}$/, '.<sha256>'));

beforeAll(async () => {
  server.add(ROT.gun, join(ROT.dir, 'server'));
  server.add(DELEG.gun, join(DELEG.dir, 'server'));
  await server.start();
});
afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('fetch update rules against a static notary', () => {
  it('first fetch: root by its plain name, then timestamp, snapshot and targets by checksum; everything written, a record kept', async () => {
    const d = dirs();
    const { r, seen } = await fetchNames(opts(ROT, d));
    expect(plain(seen)).toEqual(['root', 'timestamp', 'snapshot.<sha256>', 'targets.<sha256>']);
    expect(r.roles.map((x) => [x.role, x.before, x.after, x.from, x.written])).toEqual([
      ['root', undefined, 3, 'network', true],
      ['timestamp', undefined, 4, 'network', true],
      ['snapshot', undefined, r.repository.snapshot.version, 'network', true],
      ['targets', undefined, r.repository.roles.get('targets')?.version, 'network', true],
    ]);
    expect(r).toMatchObject({ rootRotated: false, changed: true, requests: 4, server: `${server.url}/`, gun: ROT.gun });
    expect(r.bytesDownloaded).toBe(['root', 'timestamp', 'snapshot', 'targets'].reduce((a, f) => a + readFileSync(join(ROT.dir, 'server', `${f}.json`)).length, 0));
    for (const f of ['root', 'timestamp', 'snapshot', 'targets']) {
      expect(readFileSync(join(metadataOf(d.trustDir, ROT.gun), `${f}.json`))).toEqual(readFileSync(join(ROT.dir, 'server', `${f}.json`)));
    }
    const rec = readTrustedState({ gun: ROT.gun, stateDir: d.stateDir });
    expect(rec).toMatchObject({ format: 1, gun: ROT.gun, fetchedAt: ROT.now.toISOString(), server: `${server.url}/`, timestampExpires: r.repository.timestamp.expires });
    expect(rec?.trustedState).toEqual(r.repository.trustedState);
    expect(r.stateFile).toBe(join(d.stateDir, 'gun', ...ROT.gun.split('/'), 'trusted-state.json'));
    expect(r.metadataDir).toBe(metadataOf(d.trustDir, ROT.gun));
  });

  it('a second fetch downloads only the timestamp, reuses the rest from the cache, writes nothing and reports the old versions', async () => {
    const d = dirs();
    const first = await fetchTrustData(opts(ROT, d));
    const record = readFileSync(first.stateFile);
    const { r, seen } = await fetchNames(opts(ROT, d, { now: new Date(ROT.now.getTime() + 1000) }));
    expect(seen).toEqual(['timestamp']);
    expect(r.roles.map((x) => [x.role, x.before, x.after, x.from, x.written])).toEqual(first.roles.map((x) => [x.role, x.after, x.after, x.role === 'timestamp' ? 'network' : 'cache', false]));
    expect(r).toMatchObject({ changed: false, rootRotated: false, requests: 1 });
    // The record is rewritten with the new fetch time only.
    const rec = readTrustedState({ gun: ROT.gun, stateDir: d.stateDir });
    expect(rec?.fetchedAt).toBe(new Date(ROT.now.getTime() + 1000).toISOString());
    expect(rec?.trustedState).toEqual(JSON.parse(record.toString()).trustedState);
  });

  it('a cached file whose hash no longer matches its snapshot entry is downloaded again and rewritten', async () => {
    const d = dirs();
    await fetchTrustData(opts(ROT, d));
    const file = join(metadataOf(d.trustDir, ROT.gun), 'targets.json');
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from(' ')]));
    const { r, seen } = await fetchNames(opts(ROT, d));
    expect(plain(seen)).toEqual(['timestamp', 'targets.<sha256>']);
    expect(r.roles.find((x) => x.role === 'targets')).toMatchObject({ from: 'network', written: true });
    expect(r.changed).toBe(true);
    expect(readFileSync(file)).toEqual(readFileSync(join(ROT.dir, 'server', 'targets.json')));
  });

  it('a cached root v1 (no record): the snapshot names root v3, fetched by checksum, with 2.root.json in between (notary-rules.md §7.6)', async () => {
    const d = dirs({ from: join(ROT.dir, 'trust-root-v1'), gun: ROT.gun });
    const { r, seen } = await fetchNames(opts(ROT, d, { maxRootRotations: 1 }));
    // The real client's requests (oracle/update-from-root-v1.requests.txt), without its second round.
    expect(plain(seen)).toEqual(['timestamp', 'snapshot.<sha256>', 'root.<sha256>', '2.root', 'targets.<sha256>']);
    expect(r.rootRotated).toBe(true);
    expect(r.roles[0]).toMatchObject({ role: 'root', before: 1, after: 3, from: 'network', written: true });
    expect(r.repository.root.version).toBe(3);
  });

  it('a missing intermediate root: the staged rotation is verified and its real problem reported (v3 is not signed by v1), the cache left alone', async () => {
    const d = dirs({ from: join(ROT.dir, 'trust-root-v1'), gun: ROT.gun });
    const before = readFileSync(join(metadataOf(d.trustDir, ROT.gun), 'root.json'));
    server.override = (name) => (name === '2.root' ? { status: 404 } : undefined);
    try {
      await expect(fetchTrustData(opts(ROT, d))).rejects.toMatchObject({ code: 'ERR_ROOT_ROTATION_FAILED', role: 'root' });
    } finally {
      server.override = () => undefined;
    }
    expect(readFileSync(join(metadataOf(d.trustDir, ROT.gun), 'root.json'))).toEqual(before);
    expect(existsSync(d.stateDir)).toBe(false);
  });

  it('delegations are fetched depth-first by their snapshot entries, under their own names', async () => {
    const d = dirs();
    const { r, seen } = await fetchNames(opts(DELEG, d));
    expect(plain(seen)).toEqual(['root', 'timestamp', 'snapshot.<sha256>', 'targets.<sha256>', 'targets/releases.<sha256>', 'targets/alice.<sha256>']);
    expect([...r.repository.roles.keys()].sort()).toEqual(['targets', 'targets/alice', 'targets/releases']);
    expect(readFileSync(join(metadataOf(d.trustDir, DELEG.gun), 'targets', 'alice.json'))).toEqual(readFileSync(join(DELEG.dir, 'server', 'targets', 'alice.json')));
  });

  it('maxDelegations below the tree: the download stops and the verifier reports the count', async () => {
    const d = dirs();
    server.seen.length = 0;
    await expect(fetchTrustData(opts(DELEG, d, { limits: { maxDelegations: 1 } }))).rejects.toMatchObject({ code: 'ERR_METADATA_TOO_LARGE', check: 'delegation count' });
    // One delegation downloaded, not the second: the cap bounds the requests, not only the verdict.
    expect(plain(server.seen)).toEqual(['root', 'timestamp', 'snapshot.<sha256>', 'targets.<sha256>', 'targets/releases.<sha256>']);
    expect(existsSync(d.stateDir)).toBe(false);
  });

  it('a record written by another fetch while this one ran: ERR_FETCH_CACHE_WRITE (concurrent commit), nothing written', async () => {
    const d = dirs();
    const other = await fetchTrustData(opts(ROT, dirs()));
    const rec = readTrustedState({ gun: ROT.gun, stateDir: join(other.stateFile, '..', '..', '..', '..', '..') });
    expect(rec).toBeDefined();
    let wrote = false;
    const onProgress = () => {
      if (wrote) return;
      wrote = true;
      writeTrustedState(d.stateDir, rec as NonNullable<typeof rec>);
    };
    await expect(fetchTrustData(opts(ROT, d, { onProgress }))).rejects.toMatchObject({ code: 'ERR_FETCH_CACHE_WRITE', check: 'concurrent commit' });
    expect(existsSync(metadataOf(d.trustDir, ROT.gun))).toBe(false);
  });

  it('progress: one call per staged file, with the running count and bytes', async () => {
    const d = dirs();
    const calls: { role: string; files: number; bytes: number }[] = [];
    await fetchTrustData(opts(ROT, d, { onProgress: (p: { gun: string; role: string; files: number; bytes: number }) => calls.push({ role: p.role, files: p.files, bytes: p.bytes }) }));
    expect(calls.map((c) => [c.role, c.files])).toEqual([['root', 1], ['timestamp', 2], ['snapshot', 3], ['targets', 4]]);
    expect(calls[0]?.bytes).toBe(readFileSync(join(ROT.dir, 'server', 'root.json')).length);
  });
});

describe('fetch options and the stale fallback', () => {
  it('retries, backoffMs and maxRootRotations take their bounds: 0 retries and 0 backoff are fine, below is ERR_INVALID_ARGUMENT', async () => {
    const d = dirs();
    await expect(fetchTrustData(opts(ROT, d, { retries: 0, backoffMs: 0 }))).resolves.toMatchObject({ gun: ROT.gun });
    for (const bad of [{ retries: -1 }, { backoffMs: -1 }, { maxRootRotations: 0 }, { deadlineMs: 0 }, { retries: 1.5 }]) {
      await expect(fetchTrustData(opts(ROT, dirs(), bad)), JSON.stringify(bad)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
  });

  it('an unreachable server with allowStale: the verified cache stands in while the last fetch is young enough', async () => {
    const d = dirs();
    await fetchTrustData(opts(ROT, d));
    const later = new Date(ROT.now.getTime() + 60_000);
    const down = { server: 'http://127.0.0.1:1', now: later };
    const r = await fetchTrustData(opts(ROT, d, { ...down, allowStale: { maxAgeMs: 60_000 } }));
    expect(r.stale).toMatchObject({ fetchedAt: ROT.now.toISOString(), ageMs: 60_000 });
    expect(r.stale?.error.code).toBe('ERR_FETCH_UNREACHABLE');
    expect(r.roles.every((x) => x.from === 'cache' && !x.written && x.before === x.after)).toBe(true);
    expect(r).toMatchObject({ changed: false, rootRotated: false });
    expect(r.repository.root.version).toBe(3);
    await expect(fetchTrustData(opts(ROT, d, { ...down, allowStale: { maxAgeMs: 59_999 } }))).rejects.toMatchObject({ code: 'ERR_FETCH_UNREACHABLE' });
    await expect(fetchTrustData(opts(ROT, d, { ...down, allowStale: { maxAgeMs: -1 } }))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    // No record: no verified fetch to be stale from.
    await expect(fetchTrustData(opts(ROT, dirs(), { ...down, allowStale: { maxAgeMs: 60_000 } }))).rejects.toMatchObject({ code: 'ERR_FETCH_UNREACHABLE' });
  });

  it('allowStale does not cover answers about the data: a 404 or bad data still refuses', async () => {
    const d = dirs();
    await fetchTrustData(opts(ROT, d));
    server.override = (name) => (name === 'timestamp' ? { status: 404 } : undefined);
    try {
      await expect(fetchTrustData(opts(ROT, d, { allowStale: { maxAgeMs: 60_000 } }))).rejects.toMatchObject({ code: 'ERR_FETCH_NOT_FOUND' });
    } finally {
      server.override = () => undefined;
    }
    server.override = (name) => (name === 'timestamp' ? { status: 503 } : undefined);
    try {
      const r = await fetchTrustData(opts(ROT, d, { allowStale: { maxAgeMs: 60_000 } }));
      expect(r.stale?.error.code).toBe('ERR_FETCH_SERVER');
    } finally {
      server.override = () => undefined;
    }
  });

  it('a timestamp that points at a snapshot the server does not have: the staged data is verified first and its real problem reported', async () => {
    const d = dirs();
    // The snapshot is gone from the server, but the (genuine) timestamp verifies: what is missing is the file.
    server.override = (name) => (name.startsWith('snapshot.') ? { status: 404 } : undefined);
    try {
      await expect(fetchTrustData(opts(ROT, d))).rejects.toMatchObject({ code: 'ERR_FETCH_NOT_FOUND', role: 'snapshot' });
      // A forged timestamp pointing at a missing snapshot is reported as forged, not as a missing file.
      const ts = JSON.parse(readFileSync(join(ROT.dir, 'server', 'timestamp.json'), 'utf8')) as { signed: { version: number } };
      ts.signed.version += 1;
      const forged = Buffer.from(JSON.stringify(ts));
      server.override = (name) => (name === 'timestamp' ? { status: 200, body: forged } : name.startsWith('snapshot.') ? { status: 404 } : undefined);
      await expect(fetchTrustData(opts(ROT, d))).rejects.toMatchObject({ code: 'ERR_THRESHOLD_NOT_MET', role: 'timestamp' });
    } finally {
      server.override = () => undefined;
    }
  });
});

describe('fetch options: what each refusal says', () => {
  it.each([
    [{ retries: -1 }, 'retries must be an integer ≥ 0, got -1'],
    [{ backoffMs: -1 }, 'backoffMs must be an integer ≥ 0, got -1'],
    [{ backoffMs: 0.5 }, 'backoffMs must be an integer ≥ 0, got 0.5'],
    [{ timeoutMs: 0 }, 'timeoutMs must be an integer ≥ 1, got 0'],
    [{ deadlineMs: 0 }, 'deadlineMs must be an integer ≥ 1, got 0'],
    [{ deadlineMs: Number.NaN }, 'deadlineMs must be an integer ≥ 1, got NaN'],
    [{ maxRootRotations: 0 }, 'maxRootRotations must be an integer ≥ 1, got 0'],
    [{ now: new Date(Number.NaN) }, 'now must be a valid Date'],
    [{ now: '2030-01-01T00:00:00Z' }, 'now must be a valid Date'],
  ])('%j: %s', async (bad, message) => {
    const d = dirs();
    server.seen.length = 0;
    await expect(fetchTrustData(opts(ROT, d, bad) as Parameters<typeof fetchTrustData>[0])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message });
    expect(server.seen).toEqual([]);
  });

  it('the state directory may not be the trust directory or inside it, whatever its name; a sibling is fine', async () => {
    const d = dirs();
    for (const stateDir of [d.trustDir, join(d.trustDir, 'state'), join(d.trustDir, '..state'), join(d.trustDir, '...'), join(d.trustDir, 'a', '..', 'b')]) {
      await expect(fetchTrustData(opts(ROT, { trustDir: d.trustDir, stateDir })), stateDir).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringContaining('must not be inside the trust directory'),
      });
    }
    await expect(fetchTrustData(opts(ROT, { trustDir: d.trustDir, stateDir: `${d.trustDir}-state` }))).resolves.toMatchObject({ gun: ROT.gun });
    await expect(fetchTrustData(opts(ROT, { trustDir: d.trustDir, stateDir: join(d.trustDir, '..', 'elsewhere') }))).resolves.toMatchObject({ gun: ROT.gun });
    // The trust directory's parent holds it, it is not inside it.
    await expect(fetchTrustData(opts(ROT, { trustDir: d.trustDir, stateDir: join(d.trustDir, '..') }))).resolves.toMatchObject({ gun: ROT.gun });
  });
});

describe('fetch: the stale result, limits at their edges, problems found before the missing file', () => {
  it('the stale result names where it read from, with the record floors as before and after, one request and no bytes', async () => {
    const d = dirs();
    const first = await fetchTrustData(opts(ROT, d));
    const rec = readTrustedState({ gun: ROT.gun, stateDir: d.stateDir });
    const r = await fetchTrustData(opts(ROT, d, { server: 'http://127.0.0.1:1', now: new Date(ROT.now.getTime() + 1), allowStale: { maxAgeMs: 1 } }));
    expect(r).toMatchObject({
      gun: ROT.gun,
      server: 'http://127.0.0.1:1/',
      metadataDir: metadataOf(d.trustDir, ROT.gun),
      stateFile: first.stateFile,
      bytesDownloaded: 0,
      requests: 1,
      changed: false,
      rootRotated: false,
      stale: { fetchedAt: ROT.now.toISOString(), ageMs: 1 },
    });
    expect(r.roles.map((x) => [x.role, x.before, x.after])).toEqual(first.roles.map((x) => [x.role, x.role === 'root' ? 3 : rec?.trustedState.versions[x.role], x.after]));
    expect(r.repository.trustedState).toEqual(rec?.trustedState);
    await expect(fetchTrustData(opts(ROT, d, { server: 'http://127.0.0.1:1', allowStale: { maxAgeMs: 1.5 } }))).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'allowStale.maxAgeMs must be an integer ≥ 0, got 1.5',
    });
    expect(readTrustedState({ gun: ROT.gun, stateDir: d.stateDir })).toEqual(rec);
  });

  it("the stale cache is verified with the caller's limits", async () => {
    const d = dirs();
    await fetchTrustData(opts(DELEG, d));
    const down = { server: 'http://127.0.0.1:1', allowStale: { maxAgeMs: 0 } };
    await expect(fetchTrustData(opts(DELEG, d, down))).resolves.toMatchObject({ stale: { ageMs: 0 } });
    await expect(fetchTrustData(opts(DELEG, d, { ...down, limits: { maxDelegations: 1 } }))).rejects.toMatchObject({ code: 'ERR_METADATA_TOO_LARGE', check: 'delegation count' });
  });

  it('maxDelegations exactly the tree passes', async () => {
    const { r, seen } = await fetchNames(opts(DELEG, dirs(), { limits: { maxDelegations: 2 } }));
    expect(r.repository.roles.size).toBe(3);
    expect(seen).toHaveLength(6);
  });

  it('a timestamp over its cap is ERR_FETCH_TOO_LARGE, not the missing file the staged check sees', async () => {
    const ts = readFileSync(join(ROT.dir, 'server', 'timestamp.json')).length;
    await expect(fetchTrustData(opts(ROT, dirs(), { limits: { maxTimestampBytes: ts - 1 } }))).rejects.toMatchObject({ code: 'ERR_FETCH_TOO_LARGE', role: 'timestamp' });
    await expect(fetchTrustData(opts(ROT, dirs(), { limits: { maxTimestampBytes: ts } }))).resolves.toMatchObject({ gun: ROT.gun });
    const root = readFileSync(join(ROT.dir, 'server', 'root.json')).length;
    await expect(fetchTrustData(opts(ROT, dirs(), { limits: { maxRootBytes: root - 1 } }))).rejects.toMatchObject({ code: 'ERR_FETCH_TOO_LARGE', role: 'root' });
  });

  it('with a record, a forged timestamp pointing at a missing snapshot is judged against the trusted root: forged, not missing', async () => {
    const d = dirs();
    await fetchTrustData(opts(ROT, d));
    const ts = JSON.parse(readFileSync(join(ROT.dir, 'server', 'timestamp.json'), 'utf8')) as { signed: { version: number } };
    ts.signed.version += 1;
    const forged = Buffer.from(JSON.stringify(ts));
    // Without a cached snapshot: with one, its hash matches and the whole set is staged.
    rmSync(join(metadataOf(d.trustDir, ROT.gun), 'snapshot.json'));
    server.override = (name) => (name === 'timestamp' ? { status: 200, body: forged } : name.startsWith('snapshot.') ? { status: 404 } : undefined);
    try {
      server.seen.length = 0;
      await expect(fetchTrustData(opts(ROT, d))).rejects.toMatchObject({ code: 'ERR_THRESHOLD_NOT_MET', role: 'timestamp' });
      expect(plain(server.seen)).toEqual(['timestamp', 'snapshot.<sha256>']);
      // The genuine timestamp, a new snapshot the server lacks: that is the missing file.
      server.override = (name) => (name.startsWith('snapshot.') ? { status: 404 } : undefined);
      await expect(fetchTrustData(opts(ROT, d))).rejects.toMatchObject({ code: 'ERR_FETCH_NOT_FOUND', role: 'snapshot' });
    } finally {
      server.override = () => undefined;
    }
  });
});

describe('fetch: network problems stay network problems, answers about the data are judged on the data', () => {
  const forgedTimestamp = () => {
    const ts = JSON.parse(readFileSync(join(ROT.dir, 'server', 'timestamp.json'), 'utf8')) as { signed: { version: number } };
    ts.signed.version += 1;
    return Buffer.from(JSON.stringify(ts));
  };
  const withOverride = async (o: typeof server.override, f: () => Promise<void>) => {
    server.override = o;
    try {
      await f();
    } finally {
      server.override = () => undefined;
    }
  };

  it('a forged timestamp, then a server error for the snapshot: ERR_FETCH_SERVER (allowStale may apply), not the forgery', async () => {
    const forged = forgedTimestamp();
    await withOverride(
      (name) => (name === 'timestamp' ? { status: 200, body: forged } : name.startsWith('snapshot.') ? { status: 503 } : undefined),
      () => expect(fetchTrustData(opts(ROT, dirs()))).rejects.toMatchObject({ code: 'ERR_FETCH_SERVER' }),
    );
  });

  it('a forged timestamp, then a snapshot over its cap: the forgery is what is reported', async () => {
    const forged = forgedTimestamp();
    const big = Buffer.alloc(readFileSync(join(ROT.dir, 'server', 'snapshot.json')).length + 1, 0x20);
    await withOverride(
      (name) => (name === 'timestamp' ? { status: 200, body: forged } : name.startsWith('snapshot.') ? { status: 200, body: big } : undefined),
      () => expect(fetchTrustData(opts(ROT, dirs()))).rejects.toMatchObject({ code: 'ERR_THRESHOLD_NOT_MET', role: 'timestamp' }),
    );
    // The genuine timestamp and an oversized snapshot: that is the oversized file.
    await withOverride(
      (name) => (name.startsWith('snapshot.') ? { status: 200, body: big } : undefined),
      () => expect(fetchTrustData(opts(ROT, dirs()))).rejects.toMatchObject({ code: 'ERR_FETCH_TOO_LARGE', role: 'snapshot' }),
    );
  });

  it('an unreachable server without allowStale: ERR_FETCH_UNREACHABLE, even with a verified cache and record', async () => {
    const d = dirs();
    await fetchTrustData(opts(ROT, d));
    await expect(fetchTrustData(opts(ROT, d, { server: 'http://127.0.0.1:1' }))).rejects.toMatchObject({ code: 'ERR_FETCH_UNREACHABLE' });
  });

  it('a server that never answers the timestamp: ERR_FETCH_TIMEOUT, and with allowStale the cache stands in', async () => {
    const d = dirs();
    await fetchTrustData(opts(ROT, d));
    await withOverride(
      (name) => (name === 'timestamp' ? 'hang' : undefined),
      async () => {
        await expect(fetchTrustData(opts(ROT, d, { timeoutMs: 200 }))).rejects.toMatchObject({ code: 'ERR_FETCH_TIMEOUT' });
        const r = await fetchTrustData(opts(ROT, d, { timeoutMs: 200, allowStale: { maxAgeMs: 0 } }));
        expect(r.stale?.error.code).toBe('ERR_FETCH_TIMEOUT');
      },
    );
  });

  it('a timestamp or a snapshot that is not JSON stops the download; the verifier says what is wrong with the file', async () => {
    const junk = Buffer.from('not json');
    await withOverride(
      (name) => (name === 'timestamp' ? { status: 200, body: junk } : undefined),
      () => expect(fetchTrustData(opts(ROT, dirs()))).rejects.toMatchObject({ code: 'ERR_METADATA_MALFORMED', role: 'timestamp' }),
    );
    server.seen.length = 0;
    await withOverride(
      (name) => (name.startsWith('snapshot.') ? { status: 200, body: junk } : undefined),
      () => expect(fetchTrustData(opts(ROT, dirs()))).rejects.toMatchObject({ code: 'ERR_HASH_MISMATCH', role: 'snapshot' }),
    );
    expect(plain(server.seen)).toEqual(['root', 'timestamp', 'snapshot.<sha256>']);
  });
});
