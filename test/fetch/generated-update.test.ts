/**
 * The fetch's update rules (src/fetch/fetch.ts, notary-rules.md §7.4–§7.8) on the generated
 * vectors (vectors/generated, signed by scripts/generate-vectors.mjs), served by an in-test static
 * notary on 127.0.0.1: which cached copies are reused and which names are asked for when a
 * snapshot entry has odd hashes or lengths, which delegations the walk skips, the root rotation
 * count, the version floors of a cache and of a record, the mode, and the root pins of a first
 * fetch. Each case's verdict is the one its case.json gives the verifier, or the fetch's own
 * (`ERR_FETCH_*`) where the file never arrives.
 */
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchTrustData } from '../../src/fetch/index.js';
import { VECTORS } from '../helpers/vectors.js';
import { StaticNotary, staticFetchOptions } from './helpers/static-notary.js';
import { makeTlsFiles } from './helpers/tls-files.js';
import { startTokenServer } from './helpers/token-server.js';

const GENERATED = join(VECTORS, 'generated');
interface Case {
  gun: string;
  now: string;
  mode: 'strict' | 'online-equivalent';
  expect: { ok?: true; error?: { code: string; role: string }; roles?: string[] };
}
const caseOf = (id: string): Case => JSON.parse(readFileSync(join(GENERATED, id, 'case.json'), 'utf8')) as Case;
const BASE = caseOf('base-valid');
const GUN = BASE.gun;
const NOW = new Date(BASE.now);
const metadataOf = (trustDir: string) => join(trustDir, 'tuf', ...GUN.split('/'), 'metadata');
const served = (id: string) => join(GENERATED, id, 'metadata');

const server = new StaticNotary();
const tmp = mkdtempSync(join(tmpdir(), 'trustgate-generated-update-'));
let n = 0;

/** Fresh trust and state directories; the cache optionally seeded with a case's metadata. */
function dirs(seed?: string): { trustDir: string; stateDir: string } {
  const d = join(tmp, `case-${n++}`);
  const trustDir = join(d, 'trust');
  mkdirSync(trustDir, { recursive: true });
  if (seed) cpSync(served(seed), metadataOf(trustDir), { recursive: true });
  return { trustDir, stateDir: join(d, 'state') };
}

const opts = (d: { trustDir: string; stateDir: string }, extra: object = {}) => staticFetchOptions(server.url, GUN, NOW, d, extra);

/** The fetch's outcome (its result or its error) and the names it asked the server for. */
async function attempt(id: string, o: Parameters<typeof fetchTrustData>[0]) {
  server.add(GUN, served(id));
  server.seen.length = 0;
  try {
    return { r: await fetchTrustData(o), seen: asked(plain(server.seen)) };
  } catch (e) {
    return { e: e as { code: string; role?: string; check?: string }, seen: asked(plain(server.seen)) };
  }
}
const plain = (names: string[]) => names.map((x) => x.replace(/\.[0-9a-f]{64}$/, '.<sha256>'));
const verdict = (a: { e?: { code: string; role?: string } }) => (a.e ? { code: a.e.code, role: a.e.role } : 'ok');
const caseVerdict = (id: string) => {
  const c = caseOf(id);
  return c.expect.error ?? 'ok';
};

const TOP = ['root', 'timestamp', 'snapshot.<sha256>', 'targets.<sha256>'];
const DELEGATIONS = ['targets/releases.<sha256>', 'targets/a.<sha256>', 'targets/a/b.<sha256>', 'targets/c.<sha256>'];
/** The names asked for, the delegations' order left out (which ones, and how often, is what these tests are about). */
const asked = (seen: string[]) => [...seen.filter((x) => !x.startsWith('targets/')), ...seen.filter((x) => x.startsWith('targets/')).sort()];

beforeAll(() => server.start());
afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('cache reuse: a cached copy stands in only when every listed supported hash matches and it fits the length', () => {
  it('a delegation listed with only its sha512: asked for by its plain name, and a cached copy that matches is reused (as Notary does)', async () => {
    const first = await attempt('delegation-sha512-only', opts(dirs()));
    expect(verdict(first)).toBe(caseVerdict('delegation-sha512-only'));
    expect(first.seen).toEqual(asked([...TOP, 'targets/releases', ...DELEGATIONS.slice(1)]));
    const again = await attempt('delegation-sha512-only', opts(dirs('delegation-sha512-only')));
    expect(verdict(again)).toBe('ok');
    expect(again.seen).toEqual(['timestamp']);
    expect(again.r?.roles.find((x) => x.role === 'targets/releases')).toMatchObject({ from: 'cache', written: false });
  });

  it('a delegation listed with no supported hash (md5 only): the cached copy is not reused, the plain name is asked for, the verifier refuses', async () => {
    const a = await attempt('delegation-no-supported-hash', opts(dirs('delegation-no-supported-hash')));
    expect(verdict(a)).toEqual(caseVerdict('delegation-no-supported-hash'));
    expect(a.seen).toEqual(['timestamp', 'targets/releases']);
  });

  it('targets listed with a right sha256 and a wrong sha512: the cached copy is not reused', async () => {
    const a = await attempt('sha512-wrong-sha256-right', opts(dirs('sha512-wrong-sha256-right')));
    expect(verdict(a)).toEqual(caseVerdict('sha512-wrong-sha256-right'));
    expect(a.seen).toEqual(['timestamp', 'targets.<sha256>']);
  });

  it('a cached root longer than the length the snapshot lists for root is not taken as current: it is asked for by checksum, under that cap', async () => {
    const a = await attempt('root-longer-than-snapshot-length', opts(dirs('root-longer-than-snapshot-length')));
    expect(verdict(a)).toEqual(caseVerdict('root-longer-than-snapshot-length'));
    expect(a.seen).toEqual(['timestamp', 'root.<sha256>']);
  });
});

describe('the delegation walk: only valid names with a snapshot entry, each once, "checksum unknown" skipped (notary-rules.md §7.8.3)', () => {
  it.each([
    ['delegation-missing-from-snapshot', [...TOP, ...DELEGATIONS.slice(1)]],
    ['delegation-length-zero-no-hashes', [...TOP, ...DELEGATIONS.slice(1)]],
    ['delegation-no-hashes-with-length', [...TOP, 'targets/releases', ...DELEGATIONS.slice(1)]],
    ['delegation-listed-twice', [...TOP, ...DELEGATIONS]],
    ['delegation-dot-dot-name-in-snapshot', [...TOP, ...DELEGATIONS]],
    ['delegation-upper-case-name', [...TOP, ...DELEGATIONS]],
  ])('%s', async (id, seen) => {
    const a = await attempt(id, opts(dirs()));
    expect(verdict(a)).toEqual(caseVerdict(id));
    expect(a.seen).toEqual(asked(seen));
  });

  it('a delegation listed with length 0 and its hashes is a 0-byte cap: asked for, refused as too large, nothing written', async () => {
    const d = dirs();
    const a = await attempt('delegation-length-zero-in-snapshot', opts(d));
    expect(a.e).toMatchObject({ code: 'ERR_FETCH_TOO_LARGE', role: 'targets/releases' });
    expect(a.seen).toEqual([...TOP, 'targets/releases.<sha256>']);
    expect(existsSync(metadataOf(d.trustDir))).toBe(false);
  });

  it.each(['timestamp-without-snapshot-entry', 'snapshot-without-targets-entry'])('%s: the download stops where the entry is missing and the verifier says why', async (id) => {
    const a = await attempt(id, opts(dirs()));
    expect(verdict(a)).toEqual(caseVerdict(id));
    expect(a.seen).toEqual(id.startsWith('timestamp') ? ['root', 'timestamp'] : ['root', 'timestamp', 'snapshot.<sha256>']);
  });
});

describe('root rotation through <N>.root.json, counted against maxRootRotations (notary-rules.md §7.6)', () => {
  const chain = 'rotation-chain-in-order';
  /** Only the trusted root v1 cached (so the cache itself does not verify), v2 and v3 served as 2.root and 3.root. */
  const rootOnly = () => {
    const d = dirs();
    mkdirSync(metadataOf(d.trustDir), { recursive: true });
    cpSync(join(GENERATED, chain, 'trusted-root.json'), join(metadataOf(d.trustDir), 'root.json'));
    return d;
  };
  const withIntermediates = () => {
    server.add(GUN, served(chain));
    server.addFile(GUN, '2.root', readFileSync(join(GENERATED, chain, 'intermediate-roots', '0.root.json')));
    server.addFile(GUN, '3.root', readFileSync(join(GENERATED, chain, 'intermediate-roots', '1.root.json')));
  };

  it('v1 to v4 is two steps: refused with maxRootRotations 1 before any intermediate is asked for, passed with 2', async () => {
    withIntermediates();
    server.seen.length = 0;
    await expect(fetchTrustData(opts(rootOnly(), { maxRootRotations: 1 }))).rejects.toMatchObject({
      code: 'ERR_METADATA_TOO_LARGE',
      role: 'root',
      check: 'root rotation count',
      expected: 1,
      actual: 2,
      message: 'root rotates from version 1 to 4, more than 1 steps',
    });
    expect(plain(server.seen)).toEqual(['timestamp', 'snapshot.<sha256>', 'root.<sha256>']);
    server.seen.length = 0;
    const r = await fetchTrustData(opts(rootOnly(), { maxRootRotations: 2 }));
    expect(asked(plain(server.seen))).toEqual(asked(['timestamp', 'snapshot.<sha256>', 'root.<sha256>', '2.root', '3.root', 'targets.<sha256>', ...DELEGATIONS]));
    expect(r.rootRotated).toBe(true);
    expect(r.roles[0]).toEqual({ role: 'root', before: 1, after: 4, from: 'network', written: true });
  });

  it('v1 to v3 where v3 is signed by the v1 key too: Notary asks for 2.root.json anyway, and a server without it is refused naming root and the file', async () => {
    // rotation-chain-skip-signed-by-trusted verifies offline (v3 rotates from v1 directly), so the
    // 404 is not hidden behind an earlier verification problem: it is the answer.
    const skip = 'rotation-chain-skip-signed-by-trusted';
    server.add(GUN, served(skip));
    const d = dirs();
    mkdirSync(metadataOf(d.trustDir), { recursive: true });
    cpSync(join(GENERATED, skip, 'trusted-root.json'), join(metadataOf(d.trustDir), 'root.json'));
    const cached = readFileSync(join(metadataOf(d.trustDir), 'root.json'));
    server.seen.length = 0;
    await expect(fetchTrustData(opts(d))).rejects.toMatchObject({ code: 'ERR_FETCH_NOT_FOUND', role: 'root', path: '2.root.json', actual: 404 });
    expect(plain(server.seen)).toEqual(['timestamp', 'snapshot.<sha256>', 'root.<sha256>', '2.root']);
    expect(readFileSync(join(metadataOf(d.trustDir), 'root.json')).equals(cached)).toBe(true);
  });

  it('a cached root alone (the cache does not verify) is still the trusted root: not asked for again, its version the one before', async () => {
    const d = dirs();
    mkdirSync(metadataOf(d.trustDir), { recursive: true });
    cpSync(join(served('base-valid'), 'root.json'), join(metadataOf(d.trustDir), 'root.json'));
    const a = await attempt('base-valid', opts(d));
    expect(a.seen).toEqual(asked(TOP.slice(1).concat(DELEGATIONS)));
    expect(a.r?.roles[0]).toEqual({ role: 'root', before: 1, after: 1, from: 'cache', written: false });
    expect(a.r?.rootRotated).toBe(false);
  });
});

describe('version floors: from the record when there is one, else from a cache that verifies (notary-rules.md §7.7)', () => {
  // versions-not-compared-between-roles publishes targets v9; base-valid, with the same keys, targets v2.
  it('a cache holding targets v9 (no record): the server offering targets v2 is a rollback', async () => {
    const a = await attempt('base-valid', opts(dirs('versions-not-compared-between-roles')));
    expect(a.e).toMatchObject({ code: 'ERR_VERSION_ROLLBACK', role: 'targets' });
    // Control: without the cache the same server passes.
    expect(verdict(await attempt('base-valid', opts(dirs())))).toBe('ok');
  });

  it('a record of targets v9 with the cache gone: the record is the floor (and its root the trusted root)', async () => {
    const d = dirs();
    expect(verdict(await attempt('versions-not-compared-between-roles', opts(d)))).toBe('ok');
    rmSync(metadataOf(d.trustDir), { recursive: true });
    const a = await attempt('base-valid', opts(d));
    expect(a.e).toMatchObject({ code: 'ERR_VERSION_ROLLBACK', role: 'targets' });
    expect(a.seen).toEqual(asked([...TOP.slice(1), ...DELEGATIONS]));
  });
});

describe('mode and what is committed', () => {
  const id = 'delegation-expired-online-equivalent';
  it('online-equivalent drops the expired delegation and its subtree, and only verified roles are committed; strict refuses', async () => {
    const d = dirs();
    const a = await attempt(id, opts(d, { mode: 'online-equivalent' }));
    expect(verdict(a)).toBe('ok');
    expect([...(a.r?.repository.roles.keys() ?? [])]).toEqual(caseOf(id).expect.roles);
    // targets/a and targets/a/b were downloaded, but never verified: not in the cache.
    expect(a.seen).toEqual(asked([...TOP, ...DELEGATIONS]));
    expect(['targets/releases', 'targets/c', 'targets/a', 'targets/a/b'].map((r) => existsSync(join(metadataOf(d.trustDir), `${r}.json`)))).toEqual([true, true, false, false]);
    expect(verdict(await attempt(id, opts(dirs())))).toEqual({ code: 'ERR_METADATA_EXPIRED', role: 'targets/a' });
    // The stale fallback verifies the cache in the caller's mode too. (The dropped roles are put
    // back by hand: without them the cache does not verify in either mode.)
    for (const r of ['a', 'a/b']) cpSync(join(served(id), 'targets', `${r}.json`), join(metadataOf(d.trustDir), 'targets', `${r}.json`));
    const down = { server: 'http://127.0.0.1:1', allowStale: { maxAgeMs: 0 } };
    await expect(fetchTrustData(opts(d, { ...down, mode: 'online-equivalent' }))).resolves.toMatchObject({ stale: { ageMs: 0 } });
    await expect(fetchTrustData(opts(d, down))).rejects.toMatchObject({ code: 'ERR_METADATA_EXPIRED', role: 'targets/a' });
  });
});

describe('pins on the first fetch (root public key, trust_pinning certs); afterwards the trusted root is the pin', () => {
  const root = JSON.parse(readFileSync(join(served('base-valid'), 'root.json'), 'utf8')) as {
    signed: { keys: Record<string, { keyval: { public: string } }>; roles: { root: { keyids: string[] } } };
  };
  const rootKeyId = root.signed.roles.root.keyids[0] as string;
  const rootKey = new X509Certificate(Buffer.from(root.signed.keys[rootKeyId]?.keyval.public ?? '', 'base64').toString('utf8')).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

  it('rootPublicKeys: another key refuses and writes nothing, the root key passes, and once trusted the pin is not consulted', async () => {
    const d = dirs();
    const wrong = await attempt('base-valid', opts(d, { pins: { rootPublicKeys: { [GUN]: [otherKey] } } }));
    expect(wrong.e).toMatchObject({ code: 'ERR_ROOT_PIN_MISMATCH' });
    expect(existsSync(metadataOf(d.trustDir))).toBe(false);
    expect(existsSync(d.stateDir)).toBe(false);
    expect(verdict(await attempt('base-valid', opts(d, { pins: { rootPublicKeys: { [GUN]: [otherKey, rootKey] } } })))).toBe('ok');
    expect(verdict(await attempt('base-valid', opts(d, { pins: { rootPublicKeys: { [GUN]: [otherKey] } } })))).toBe('ok');
  });

  it('certs: another root key ID refuses, the root key ID passes', async () => {
    const wrong = await attempt('base-valid', opts(dirs(), { pins: { certs: { [GUN]: ['0'.repeat(64)] } } }));
    expect(wrong.e).toMatchObject({ code: 'ERR_ROOT_PIN_MISMATCH' });
    expect(verdict(await attempt('base-valid', opts(dirs(), { pins: { certs: { [GUN]: [rootKeyId] } } })))).toBe('ok');
  });
});

describe("docker's token flow: the pull scope of the GUN, credentials from the options or the docker config", () => {
  it('the right credentials get a pull token (from the options, or the docker config dir); without them the server refuses', async () => {
    const tokens = await startTokenServer(join(tmp, 'token-server'), { users: { alice: 'secret' }, publicGuns: [] });
    server.tokenAuth = { realm: tokens.realm, service: tokens.service };
    try {
      const scope = `repository:${GUN}:pull`;
      expect(verdict(await attempt('base-valid', opts(dirs(), { auth: { username: 'alice', password: 'secret' } })))).toBe('ok');
      // Anonymously first, then with the credentials (docker's order).
      expect(tokens.requests.map((r) => [r.who, r.scope, r.service])).toEqual([['anonymous', scope, tokens.service], ['alice', scope, tokens.service]]);
      const config = join(tmp, 'docker-config');
      mkdirSync(config, { recursive: true });
      writeFileSync(join(config, 'config.json'), JSON.stringify({ auths: { [GUN.split('/')[0] as string]: { auth: Buffer.from('alice:secret').toString('base64') } } }));
      expect(verdict(await attempt('base-valid', opts(dirs(), { dockerConfigDir: config })))).toBe('ok');
      expect(tokens.requests.at(-1)?.who).toBe('alice');
      const anonymous = await attempt('base-valid', opts(dirs()));
      expect(anonymous.e?.code).toBe('ERR_FETCH_AUTH');
      expect(tokens.requests.at(-1)?.who).toBe('anonymous');
    } finally {
      server.tokenAuth = undefined;
      await tokens.stop();
    }
  });
});

describe('https: the CA from tlsCa and the one of the registry entry are both trusted', () => {
  const dir = join(tmp, 'tls');
  let https: StaticNotary;
  let ca = '';
  let otherCa = '';
  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    const tls = makeTlsFiles(dir, 'static-notary');
    ca = tls.ca;
    otherCa = tls.otherCa;
    https = new StaticNotary({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) });
    https.add(GUN, served('base-valid'));
    await https.start();
  });
  afterAll(() => https.stop());

  const registry = GUN.split('/')[0] as string;
  it.each([
    ['tlsCa alone', () => ({ server: https.url, tlsCa: ca })],
    ["the registry entry's CA alone", () => ({ server: undefined, registries: { [registry]: { server: https.url, tlsCa: ca } } })],
    // Without their final newlines: the two PEMs must still be told apart.
    ["another CA as tlsCa, the server's in the registry entry", () => ({ server: undefined, tlsCa: otherCa.trimEnd(), registries: { [registry]: { server: https.url, tlsCa: ca.trimEnd() } } })],
    ["the server's CA as tlsCa, another in the registry entry", () => ({ server: undefined, tlsCa: ca.trimEnd(), registries: { [registry]: { server: https.url, tlsCa: otherCa.trimEnd() } } })],
  ])('%s: fetched and verified', async (_, extra) => {
    await expect(fetchTrustData(opts(dirs(), extra()))).resolves.toMatchObject({ server: `${https.url}/` });
  });

  it('an https server may not send the client to a plain-http token realm (credentials would travel in clear)', async () => {
    const tokens = await startTokenServer(join(dir, 'token-server'), { users: { alice: 'secret' }, publicGuns: [GUN] });
    https.tokenAuth = { realm: tokens.realm, service: tokens.service };
    try {
      await expect(fetchTrustData(opts(dirs(), { server: https.url, tlsCa: ca, auth: { username: 'alice', password: 'secret' } }))).rejects.toMatchObject({
        code: 'ERR_FETCH_AUTH',
        message: expect.stringContaining('not https'),
      });
      expect(tokens.requests).toEqual([]);
    } finally {
      https.tokenAuth = undefined;
      await tokens.stop();
    }
  });

  it('no CA, or only another: the certificate is not trusted (ERR_FETCH_UNREACHABLE)', async () => {
    await expect(fetchTrustData(opts(dirs(), { server: https.url }))).rejects.toMatchObject({ code: 'ERR_FETCH_UNREACHABLE' });
    await expect(fetchTrustData(opts(dirs(), { server: https.url, tlsCa: otherCa }))).rejects.toMatchObject({ code: 'ERR_FETCH_UNREACHABLE' });
  });
});
