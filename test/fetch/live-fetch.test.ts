/**
 * fetchTrustData against a real notary-server on 127.0.0.1 (memory storage) whose keys live in a
 * real notary-signer (trust_service remote, mutual TLS: helpers/signer.ts), with repositories
 * published by the real notary CLI, and the cache it writes read back by the real notary CLI
 * offline. Without notary on PATH the suite is skipped (reason in the title), except under CI.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync, readFileSync, mkdirSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchTrustData, readTrustedState } from '../../src/fetch/index.js';
import { listTargets, lookupTarget, NOTARY_ROLE_ORDER, verifyTrustDir } from '../../src/index.js';
import type { TrustErrorCode } from '../../src/errors.js';
import { probeSigner } from './helpers/signer.js';
import { underCi } from '../helpers/environment.js';
import { NOTARY_BINARIES, notaryListOffline, notaryMissing, Publisher, runLive, snapshotTree, startNotaryServer, tempDir, type NotaryServer } from './helpers/notary.js';

const GUN = 'registry.test:5000/fetch/app';
const DELEG_GUN = 'registry.test:5000/fetch/deleg';
const KEYS_GUN = 'registry.test:5000/fetch/keys';

async function rejectsWith(p: Promise<unknown>, code: TrustErrorCode): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected ${code}`).toBeInstanceOf(Error);
  expect((e as { code?: string }).code, (e as Error).message).toBe(code);
  return e as Error;
}

// One test that always runs: under CI a missing notary, notary-server, notary-signer or openssl
// fails here (the suites below then fail on their own too); locally it says why they are skipped.
describe('live fetch: prerequisites', () => {
  const reason = `the live fetch suites (test/fetch) are skipped: ${notaryMissing ?? ''} (Debian: apt-get install -y notary openssl; under CI this is a failure)`;
  it(notaryMissing === undefined || underCi ? `${NOTARY_BINARIES.join(', ')} are on PATH` : reason, () => {
    if (notaryMissing === undefined || underCi) {
      expect(notaryMissing, reason).toBeUndefined();
      return;
    }
    console.warn(`test/fetch/live-fetch.test.ts: ${reason}`);
  });
});

describe.skipIf(!runLive)(`fetch from a live notary-server${notaryMissing ? ` (skipped: ${notaryMissing})` : ''}`, () => {
  const tmp = tempDir('trustgate-fetch-');
  let server: NotaryServer;
  let pub: Publisher;
  const trustDir = join(tmp.dir, 'client-trust');
  const stateDir = join(tmp.dir, 'client-state');
  const now = () => new Date();
  const base = () => ({ gun: GUN, server: server.url, trustDir, stateDir, now: now(), dockerConfigDir: false as const, retries: 0 });

  beforeAll(async () => {
    server = await startNotaryServer(join(tmp.dir, 'server'));
    pub = new Publisher(tmp.dir, server.url);
    pub.run(['init', GUN]);
    pub.run(['add', GUN, 'v1', pub.file('v1', 'release one\n')]);
    pub.run(['add', GUN, 'latest', pub.file('v1', 'release one\n')]);
    pub.run(['publish', GUN]);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  it('a first fetch stages, verifies and commits in notary layout; notary lists the same tags offline', async () => {
    const r = await fetchTrustData(base());
    // notary init publishes version 1 of targets and snapshot, the first publish version 2.
    expect(r.roles.map((x) => [x.role, x.before, x.after, x.from, x.written])).toEqual([
      ['root', undefined, 1, 'network', true],
      ['timestamp', undefined, r.repository.timestamp.version, 'network', true],
      ['snapshot', undefined, 2, 'network', true],
      ['targets', undefined, 2, 'network', true],
    ]);
    expect(r.changed).toBe(true);
    expect(r.rootRotated).toBe(false);
    expect(r.bytesDownloaded).toBeGreaterThan(1000);
    const ours = listTargets(r.repository, { roles: NOTARY_ROLE_ORDER }).map((t) => [t.name, t.digest.slice(7), t.role]).sort();
    expect(ours.map((t) => t[0])).toEqual(['latest', 'v1']);
    const notary = notaryListOffline(trustDir, GUN, join(tmp.dir, 'offline-home'));
    expect(notary.exit, notary.out).toBe(0);
    expect(notary.rows.map((x) => [x.name, x.sha256, x.role]).sort()).toEqual(ours);
    // trustgate offline agrees too, and the record anchors it.
    const rec = readTrustedState({ gun: GUN, stateDir });
    expect(rec?.trustedState.versions).toMatchObject({ root: 1, snapshot: 2, targets: 2 });
    expect(lookupTarget(verifyTrustDir({ gun: GUN, trustDir, now: now(), trustedState: rec!.trustedState }), 'v1').role).toBe('targets');
    // The server's keys live in the real notary-signer (trust_service remote, mutual TLS): the
    // timestamp key in root.json is the one the server names, the signer created it (ecdsa, the
    // signer's algorithm here; the local trust service would have made ed25519) and signed the
    // fetched timestamp with it.
    const tsIds = r.repository.root.roles['timestamp']!.keyids;
    const tsKey = (await (await fetch(`${server.url}/v2/${GUN}/_trust/tuf/timestamp.key`)).json()) as { keytype: string; keyval: { public: string } };
    expect(tsIds.map((id) => r.repository.root.keys[id]!.keyval.public)).toEqual([tsKey.keyval.public]);
    expect(tsKey.keytype).toBe('ecdsa');
    expect(server.signer!.created()).toEqual(expect.arrayContaining([...tsIds]));
    expect(r.repository.timestamp.signedBy).toEqual(tsIds);
    expect(server.signer!.signedWith()).toEqual(expect.arrayContaining([...tsIds]));
  });

  it('the signer takes only notary-server: mutual TLS, a client without its certificate is refused', async () => {
    expect(await probeSigner(server.signer!, true)).toBe('answered');
    expect(await probeSigner(server.signer!, false)).toMatch(/CERTIFICATE/);
  });

  it('a second fetch with nothing new downloads only the timestamp and writes nothing', async () => {
    const before = snapshotTree(trustDir);
    const r = await fetchTrustData(base());
    expect(r.requests).toBe(1);
    expect(r.changed).toBe(false);
    expect(r.roles.map((x) => [x.role, x.from, x.written])).toEqual([
      ['root', 'cache', false],
      ['timestamp', 'network', false],
      ['snapshot', 'cache', false],
      ['targets', 'cache', false],
    ]);
    expect(snapshotTree(trustDir)).toEqual(before);
  });

  it('follows two root rotations through <N>.root.json and reports versions before and after', async () => {
    const targetsBefore = readTrustedState({ gun: GUN, stateDir })!.trustedState.versions['targets'];
    pub.rotateRoot(GUN);
    pub.run(['add', GUN, 'v2', pub.file('v2', 'release two\n')]);
    pub.run(['publish', GUN]);
    pub.rotateRoot(GUN);
    pub.run(['publish', GUN]);
    const r = await fetchTrustData(base());
    expect(r.rootRotated).toBe(true);
    const root = r.roles.find((x) => x.role === 'root');
    expect(root).toMatchObject({ before: 1, after: 3, from: 'network', written: true });
    expect(r.roles.find((x) => x.role === 'targets')).toMatchObject({ before: targetsBefore, from: 'network', written: true });
    expect(r.roles.find((x) => x.role === 'targets')!.after).toBeGreaterThan(targetsBefore!);
    expect(lookupTarget(r.repository, 'v2').role).toBe('targets');
    const notary = notaryListOffline(trustDir, GUN, join(tmp.dir, 'offline-home'));
    expect(notary.rows.map((x) => x.name).sort()).toEqual(['latest', 'v1', 'v2']);
    expect(readTrustedState({ gun: GUN, stateDir })?.trustedState.versions['root']).toBe(3);
  });

  it('a failed fetch (server unreachable) leaves cache and record byte for byte as they were', async () => {
    const before = snapshotTree(trustDir);
    const beforeState = snapshotTree(stateDir);
    await rejectsWith(fetchTrustData({ ...base(), server: 'http://127.0.0.1:1' }), 'ERR_FETCH_UNREACHABLE');
    expect(snapshotTree(trustDir)).toEqual(before);
    expect(snapshotTree(stateDir)).toEqual(beforeState);
  });

  it('a failed first fetch of a GUN removes the directories it made for its locks, and only those', async () => {
    const never = 'registry.test:5000/fetch/never/here';
    const dead = { ...base(), gun: never, server: 'http://127.0.0.1:1' };
    // Beside an existing cache: tuf/<never>/ and gun/<never>/ are made for the locks, then removed.
    const before = { cache: snapshotTree(trustDir), state: snapshotTree(stateDir) };
    await rejectsWith(fetchTrustData(dead), 'ERR_FETCH_UNREACHABLE');
    expect({ cache: snapshotTree(trustDir), state: snapshotTree(stateDir) }).toEqual(before);
    // Into directories that do not exist yet: they still do not.
    const fresh = { trustDir: join(tmp.dir, 'never-trust'), stateDir: join(tmp.dir, 'never-state') };
    await rejectsWith(fetchTrustData({ ...dead, ...fresh }), 'ERR_FETCH_UNREACHABLE');
    expect([snapshotTree(fresh.trustDir), snapshotTree(fresh.stateDir)]).toEqual([{}, {}]);
    // An empty folder someone else made for the GUN is not this fetch's to remove.
    const theirs = join(fresh.trustDir, 'tuf', ...never.split('/'));
    mkdirSync(theirs, { recursive: true });
    const made = snapshotTree(fresh.trustDir);
    await rejectsWith(fetchTrustData({ ...dead, ...fresh }), 'ERR_FETCH_UNREACHABLE');
    expect(snapshotTree(fresh.trustDir)).toEqual(made);
    expect(snapshotTree(fresh.stateDir)).toEqual({});
  });

  it('a failed verification (time far in the future: everything expired) leaves the cache unchanged', async () => {
    pub.run(['add', GUN, 'v3', pub.file('v3', 'release three\n')]);
    pub.run(['publish', GUN]);
    const before = snapshotTree(trustDir);
    await rejectsWith(fetchTrustData({ ...base(), now: new Date(Date.now() + 30 * 86400_000) }), 'ERR_METADATA_EXPIRED');
    expect(snapshotTree(trustDir)).toEqual(before);
  });

  it('stale fallback only when asked, bounded by maxAgeMs, and reported', async () => {
    const down = { ...base(), server: 'http://127.0.0.1:1' };
    await rejectsWith(fetchTrustData({ ...down, allowStale: { maxAgeMs: 1 } , now: new Date(Date.now() + 60_000) }), 'ERR_FETCH_UNREACHABLE');
    const r = await fetchTrustData({ ...down, allowStale: { maxAgeMs: 3_600_000 } });
    expect(r.stale?.error.code).toBe('ERR_FETCH_UNREACHABLE');
    expect(r.stale?.ageMs).toBeGreaterThanOrEqual(0);
    expect(r.changed).toBe(false);
  });

  it('a cache rewritten to an older validly signed copy is refused offline with the record (ERR_VERSION_ROLLBACK)', async () => {
    const old = join(tmp.dir, 'old-cache');
    const meta = (d: string) => join(d, 'tuf', ...GUN.split('/'), 'metadata');
    cpSync(meta(trustDir), old, { recursive: true });
    await fetchTrustData(base()); // brings v3 in: targets and snapshot versions go up
    const rec = readTrustedState({ gun: GUN, stateDir })!;
    // The attacker can write the cache but not the record: put back the older, validly signed copy.
    rmSync(meta(trustDir), { recursive: true });
    cpSync(old, meta(trustDir), { recursive: true });
    expect(() => verifyTrustDir({ gun: GUN, trustDir, now: now() })).not.toThrow(); // notary-style offline: no floor
    let caught: unknown;
    try {
      verifyTrustDir({ gun: GUN, trustDir, now: now(), trustedState: rec.trustedState });
    } catch (e) {
      caught = e;
    }
    expect((caught as { code?: string }).code).toBe('ERR_VERSION_ROLLBACK');
    // A fetch repairs it from the server, since the old bytes do not match the new snapshot.
    const r = await fetchTrustData(base());
    expect(r.changed).toBe(true);
    expect(lookupTarget(r.repository, 'v3').role).toBe('targets');
  });

  it('a record that does not parse is an error, not "no record"', async () => {
    const other = join(tmp.dir, 'bad-state');
    const file = join(other, 'gun', ...GUN.split('/'), 'trusted-state.json');
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, '{"format":1');
    expect(() => readTrustedState({ gun: GUN, stateDir: other })).toThrow(/corrupt/);
    expect(readFileSync(file, 'utf8')).toBe('{"format":1');
  });

  it('delegations come by checksum name, and the committed cache lists them for notary offline', async () => {
    const keys = join(tmp.dir, 'keys');
    mkdirSync(keys, { recursive: true });
    pub.run(['init', DELEG_GUN]);
    pub.run(['add', DELEG_GUN, 'top', pub.file('top', 'top\n')]);
    pub.run(['publish', DELEG_GUN]);
    // A delegation key made by notary itself: generate, export the public half.
    const { execFileSync } = await import('node:child_process');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(keys, 'rel.key')]);
    execFileSync('openssl', ['pkey', '-in', join(keys, 'rel.key'), '-pubout', '-out', join(keys, 'rel.pub')]);
    pub.run(['delegation', 'add', DELEG_GUN, 'targets/releases', join(keys, 'rel.pub'), '--all-paths']);
    pub.run(['publish', DELEG_GUN]);
    pub.run(['key', 'import', join(keys, 'rel.key'), '--role', 'targets/releases']);
    pub.run(['add', DELEG_GUN, 'rel-1', pub.file('rel', 'released\n'), '--roles', 'targets/releases']);
    pub.run(['publish', DELEG_GUN]);
    const r = await fetchTrustData({ ...base(), gun: DELEG_GUN });
    expect(r.roles.map((x) => x.role)).toEqual(['root', 'timestamp', 'snapshot', 'targets', 'targets/releases']);
    expect(lookupTarget(r.repository, 'rel-1').role).toBe('targets/releases');
    const notary = notaryListOffline(trustDir, DELEG_GUN, join(tmp.dir, 'offline-home'));
    expect(notary.exit, notary.out).toBe(0);
    expect(notary.rows.map((x) => [x.name, x.role]).sort()).toEqual([
      ['rel-1', 'targets/releases'],
      ['top', 'targets'],
    ]);
  });

  it('a cache that notary itself wrote (no record yet) is extended: its root is the anchor, its versions the floor', async () => {
    const nd = join(tmp.dir, 'notary-written');
    const home = join(tmp.dir, 'notary-home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'c.json'), '{}');
    const { spawnSync } = await import('node:child_process');
    const listed = spawnSync('notary', ['-c', join(home, 'c.json'), '-d', nd, '-s', server.url, 'list', GUN], { env: { PATH: process.env['PATH'] ?? '', HOME: home }, encoding: 'utf8' });
    expect(listed.status, listed.stderr).toBe(0);
    const r = await fetchTrustData({ ...base(), trustDir: nd, stateDir: join(tmp.dir, 'notary-written-state') });
    expect(r.changed).toBe(false);
    expect(r.roles.map((x) => [x.role, x.from, x.before === x.after])).toEqual([
      ['root', 'cache', true],
      ['timestamp', 'network', true],
      ['snapshot', 'cache', true],
      ['targets', 'cache', true],
    ]);
    // A cache whose root was swapped for another repository's fails: the cached root is the anchor,
    // and the server's root is not signed by it.
    const otherRoot = readFileSync(join(trustDir, 'tuf', ...DELEG_GUN.split('/'), 'metadata', 'root.json'));
    writeFileSync(join(nd, 'tuf', ...GUN.split('/'), 'metadata', 'root.json'), otherRoot);
    await expect(fetchTrustData({ ...base(), trustDir: nd, stateDir: join(tmp.dir, 'notary-written-state-2') })).rejects.toMatchObject({ code: 'ERR_ROOT_ROTATION_FAILED' });
  });

  /** What trustgate and notary (online, from the publisher; offline, from trustgate's cache) list for `gun`. */
  function listings(r: Awaited<ReturnType<typeof fetchTrustData>>, gun: string) {
    const ours = listTargets(r.repository, { roles: NOTARY_ROLE_ORDER }).map((t) => [t.name, t.digest.slice(7), t.role]).sort();
    const offline = notaryListOffline(trustDir, gun, join(tmp.dir, 'offline-home'));
    expect(offline.exit, offline.out).toBe(0);
    const online = pub
      .run(['list', gun])
      .split('\n')
      .flatMap((l) => {
        const m = /^(\S+) +([0-9a-f]{64}) +\d+ +(\S+) *$/.exec(l);
        return m ? [[m[1], m[2], m[3]]] : [];
      })
      .sort();
    return { ours, offline: offline.rows.map((x) => [x.name, x.sha256, x.role]).sort(), online };
  }

  it('key rotation: a new targets key (notary key rotate GUN targets), republished, is accepted and lists as notary lists it', async () => {
    pub.run(['init', KEYS_GUN]);
    pub.run(['add', KEYS_GUN, 'k1', pub.file('k1', 'keys one\n')]);
    pub.run(['publish', KEYS_GUN]);
    const first = await fetchTrustData({ ...base(), gun: KEYS_GUN });
    const oldTargetsKeys = first.repository.root.roles['targets']!.keyids;
    pub.run(['key', 'rotate', KEYS_GUN, 'targets']);
    pub.run(['add', KEYS_GUN, 'k2', pub.file('k2', 'keys two\n')]);
    pub.run(['publish', KEYS_GUN]);
    const r = await fetchTrustData({ ...base(), gun: KEYS_GUN });
    const newTargetsKeys = r.repository.root.roles['targets']!.keyids;
    expect(newTargetsKeys).not.toEqual(oldTargetsKeys);
    expect(r.rootRotated).toBe(true); // the root lists the new targets key
    expect(r.repository.roles.get('targets')!.signedBy).toEqual(newTargetsKeys);
    expect(lookupTarget(r.repository, 'k2').role).toBe('targets');
    const l = listings(r, KEYS_GUN);
    expect(l.ours.map((x) => x[0])).toEqual(['k1', 'k2']);
    expect(l.offline).toEqual(l.ours);
    expect(l.online).toEqual(l.ours);
  });

  it('a server-managed snapshot (notary key rotate GUN snapshot -r): the server signs it, the fetched cache verifies and lists as notary does', async () => {
    const before = await fetchTrustData({ ...base(), gun: KEYS_GUN });
    pub.run(['key', 'rotate', KEYS_GUN, 'snapshot', '-r']);
    pub.run(['add', KEYS_GUN, 'k3', pub.file('k3', 'keys three\n')]);
    pub.run(['publish', KEYS_GUN]);
    const answer = await fetch(`${server.url}/v2/${KEYS_GUN}/_trust/tuf/snapshot.key`); // the key the server signs with
    expect(answer.status).toBe(200);
    const serverKey = (await answer.json()) as { keyval: { public: string } };
    const r = await fetchTrustData({ ...base(), gun: KEYS_GUN });
    const ids = r.repository.root.roles['snapshot']!.keyids;
    expect(ids).not.toEqual(before.repository.root.roles['snapshot']!.keyids);
    // The snapshot is signed by the key the server holds, and by nothing else.
    expect(ids.map((id) => r.repository.root.keys[id]!.keyval.public)).toEqual([serverKey.keyval.public]);
    expect(r.repository.snapshot.signedBy).toEqual(ids);
    // That key is the signer's: it made it on the rotation and signed this snapshot with it.
    expect(server.signer!.created()).toEqual(expect.arrayContaining([...ids]));
    expect(server.signer!.signedWith()).toEqual(expect.arrayContaining([...ids]));
    expect(r.roles.find((x) => x.role === 'snapshot')!.after).toBeGreaterThan(before.repository.snapshot.version);
    expect(lookupTarget(r.repository, 'k3').role).toBe('targets');
    const l = listings(r, KEYS_GUN);
    expect(l.ours.map((x) => x[0])).toEqual(['k1', 'k2', 'k3']);
    expect(l.offline).toEqual(l.ours);
    expect(l.online).toEqual(l.ours);
    // Offline, with the record, the committed cache verifies on its own.
    const rec = readTrustedState({ gun: KEYS_GUN, stateDir })!;
    expect(verifyTrustDir({ gun: KEYS_GUN, trustDir, now: now(), trustedState: rec.trustedState }).snapshot.signedBy).toEqual(ids);
  });

  it('a delegation key change (new key added, the old one removed), republished, is accepted and lists as notary lists it', async () => {
    const before = await fetchTrustData({ ...base(), gun: DELEG_GUN });
    const oldIds = Object.keys(before.repository.roles.get('targets/releases')!.keys);
    const keys = join(tmp.dir, 'keys');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(keys, 'rel2.key')]);
    execFileSync('openssl', ['pkey', '-in', join(keys, 'rel2.key'), '-pubout', '-out', join(keys, 'rel2.pub')]);
    // One publish: the new key in, the old one out, and a target that makes notary re-sign the role with the new key.
    pub.run(['delegation', 'add', DELEG_GUN, 'targets/releases', join(keys, 'rel2.pub'), '--all-paths']);
    pub.run(['delegation', 'remove', DELEG_GUN, 'targets/releases', ...oldIds]);
    pub.run(['key', 'import', join(keys, 'rel2.key'), '--role', 'targets/releases']);
    pub.run(['add', DELEG_GUN, 'rel-2', pub.file('rel2', 'released again\n'), '--roles', 'targets/releases']);
    pub.run(['publish', DELEG_GUN]);
    const r = await fetchTrustData({ ...base(), gun: DELEG_GUN });
    const rel = r.repository.roles.get('targets/releases')!;
    const newIds = Object.keys(rel.keys);
    expect(newIds).toHaveLength(1);
    expect(newIds).not.toEqual(oldIds);
    expect(rel.signedBy).toEqual(newIds);
    expect(lookupTarget(r.repository, 'rel-2').role).toBe('targets/releases');
    const l = listings(r, DELEG_GUN);
    expect(l.offline).toEqual(l.ours);
    expect(l.online).toEqual(l.ours);
  });
});
