/**
 * Three small rules of the chain, each pinned at its boundary: the version floors of the trusted
 * state (notary-rules.md §7.7: a role below its floor is a rollback, one at its floor is not, and
 * the state returned keeps every floor it was given), the caller's limits (positive integers; the
 * delegation count at its exact bound), and `validUntil` (the earliest expiry of every role and
 * root certificate, §6 step 3).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { verifyRepository } from '../../src/verify/repository.js';
import { validUntil } from '../../src/verify/valid-until.js';
import { DEFAULT_LIMITS, type VerifiedRepository } from '../../src/verify/types.js';
import { dirSource, scenario, VECTORS } from '../helpers/vectors.js';

const BASE = join(VECTORS, 'generated', 'base-valid', 'metadata');
const GUN = 'example.com/trustgate/repo';
const NOW = new Date('2030-01-01T00:00:00Z');
const ROLES = ['root', 'timestamp', 'snapshot', 'targets', 'targets/releases', 'targets/a', 'targets/a/b', 'targets/c'];
const files = new Map(ROLES.map((r) => [r, new Uint8Array(readFileSync(join(BASE, `${r}.json`)))]));
const source = (r: string) => files.get(r);
/** Versions as the files state them, read without the verifier. */
const fileVersion = (r: string) => (JSON.parse(Buffer.from(files.get(r) as Uint8Array).toString('utf8')) as { signed: { version: number } }).signed.version;

const verify = (extra: object = {}) => verifyRepository({ gun: GUN, now: NOW, source, ...extra });
const rootText = Buffer.from(files.get('root') as Uint8Array).toString('utf8');

describe('version floors from the trusted state', () => {
  it('every role at exactly its floor verifies; one version above any file is a rollback of that role', () => {
    const at = Object.fromEntries(ROLES.map((r) => [r, fileVersion(r)]));
    expect(() => verify({ trustedState: { gun: GUN, root: rootText, versions: at } })).not.toThrow();
    for (const role of ROLES) {
      const versions = { ...at, [role]: fileVersion(role) + 1 };
      let caught: unknown;
      try {
        verify({ trustedState: { gun: GUN, root: rootText, versions } });
      } catch (e) {
        caught = e;
      }
      expect(caught, role).toMatchObject({ code: 'ERR_VERSION_ROLLBACK', role, expected: fileVersion(role) + 1, actual: fileVersion(role), check: 'version floor from trusted state' });
      expect((caught as Error).message, role).toBe(`${role} version ${fileVersion(role)} is lower than version ${fileVersion(role) + 1}, which was trusted before`);
    }
  });

  it('the state returned keeps every floor: the higher of old and new per role, and floors of roles not loaded now', () => {
    const repo = verify({ trustedState: { gun: GUN, root: rootText, versions: { timestamp: 0, 'targets/gone': 7, snapshot: fileVersion('snapshot') } } });
    const expected = { ...Object.fromEntries(ROLES.map((r) => [r, fileVersion(r)])), 'targets/gone': 7 };
    expect(repo.trustedState.versions).toEqual(expected);
    expect(repo.trustedState).toMatchObject({ gun: GUN, root: rootText });
    // Without a trusted state the floors are what was verified.
    expect(verify().trustedState.versions).toEqual(Object.fromEntries(ROLES.map((r) => [r, fileVersion(r)])));
  });
});

describe('limits', () => {
  it('the delegation count: exactly as many as the tree has passes, one fewer is ERR_METADATA_TOO_LARGE', () => {
    const delegations = ROLES.filter((r) => r.startsWith('targets/')).length;
    expect([...verify({ limits: { maxDelegations: delegations } }).roles.keys()]).toHaveLength(delegations + 1);
    expect(() => verify({ limits: { maxDelegations: delegations - 1 } })).toThrow(
      expect.objectContaining({ code: 'ERR_METADATA_TOO_LARGE', check: 'delegation count', expected: delegations - 1, message: `more than ${delegations - 1} delegated roles` }),
    );
  });

  it('every limit must be a positive safe integer; limits must be an object; unknown keys are ignored', () => {
    for (const k of ['maxRootBytes', 'maxTimestampBytes', 'maxJsonDepth', 'maxDelegations', 'maxSignatures']) {
      for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 53, '5']) {
        expect(() => verify({ limits: { [k]: bad } }), `${k}=${String(bad)}`).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining(`limits.${k}`) }));
      }
    }
    for (const bad of [null, 5, 'x']) expect(() => verify({ limits: bad }), String(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: 'limits must be an object' }));
    expect(() => verify({ limits: { maxSignatures: 1, other: -1 } })).not.toThrow();
  });

  it("the defaults are Notary's caps (notary-rules.md §7.4: root 100 MiB, timestamp 1 MiB) and trustgate's own bounds", () => {
    const asked: Record<string, number> = {};
    verify({ source: (r: string, max: number) => ((asked[r] = max), source(r)) });
    expect([asked['root'], asked['timestamp']]).toEqual([100 * 1024 * 1024, 1024 * 1024]);
    expect(DEFAULT_LIMITS).toEqual({ maxRootBytes: 104_857_600, maxTimestampBytes: 1_048_576, maxJsonDepth: 64, maxDelegations: 10_000, maxSignatures: 1_000 });
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
  });

  it('a limit of 1 is accepted and applies: one signature per file is what this repository has', () => {
    expect(() => verify({ limits: { maxSignatures: 1 } })).not.toThrow();
  });

  it('size limits apply at their exact byte count: root and timestamp', () => {
    const rootLen = (files.get('root') as Uint8Array).length;
    const tsLen = (files.get('timestamp') as Uint8Array).length;
    expect(() => verify({ limits: { maxRootBytes: rootLen, maxTimestampBytes: tsLen } })).not.toThrow();
    expect(() => verify({ limits: { maxRootBytes: rootLen - 1 } })).toThrow(expect.objectContaining({ code: 'ERR_METADATA_TOO_LARGE', role: 'root' }));
    expect(() => verify({ limits: { maxTimestampBytes: tsLen - 1 } })).toThrow(expect.objectContaining({ code: 'ERR_METADATA_TOO_LARGE', role: 'timestamp' }));
  });
});

describe('validUntil: the earliest expiry of every role and root certificate', () => {
  const FAR = new Date('2999-01-01T00:00:00Z');
  /** The same repository with every expiry moved far out except the ones given. */
  function withExpiries(repo: VerifiedRepository, keep: Partial<Record<'root' | 'timestamp' | 'snapshot' | string, Date>>): VerifiedRepository {
    const at = (name: string) => keep[name] ?? FAR;
    return {
      ...repo,
      root: { ...repo.root, expiresAt: at('root') },
      timestamp: { ...repo.timestamp, expiresAt: at('timestamp') },
      snapshot: { ...repo.snapshot, expiresAt: at('snapshot') },
      roles: new Map([...repo.roles].map(([n, r]) => [n, { ...r, expiresAt: at(n) }])),
    };
  }
  // The hub-like vector: an ecdsa-x509 root certificate (10 years) and 14-day timestamps.
  const hub = scenario('hub-like');
  // Verified in each test, not at collection: a mutation run activates its mutant per test.
  let repo: ReturnType<typeof verifyRepository>;
  let certNotAfter: number;
  beforeEach(() => {
  repo = verifyRepository({ gun: hub.gun, now: hub.now, source: (r) => {
    try {
      return new Uint8Array(readFileSync(join(hub.metadataDir, `${r}.json`)));
    } catch {
      return undefined;
    }
  } });
  certNotAfter = Math.min(
    ...Object.values(repo.root.keys)
      .filter((k) => k.keytype.endsWith('-x509'))
      .map((k) => new Date(new X509Certificate(Buffer.from(k.keyval.public, 'base64')).validTo).getTime()),
  );
  });

  it('with every role far out, the root certificate decides', () => {
    expect(Number.isFinite(certNotAfter)).toBe(true);
    expect(validUntil(withExpiries(repo, {})).getTime()).toBe(certNotAfter);
  });

  it('each role, when it is the earliest, decides', () => {
    const early = new Date(hub.now.getTime() + 1000);
    for (const name of ['root', 'timestamp', 'snapshot', ...repo.roles.keys()]) {
      expect(validUntil(withExpiries(repo, { [name]: early })).getTime(), name).toBe(early.getTime());
    }
  });

  it('a root key that is no certificate bundle bounds nothing (a root verifies through its other keys)', () => {
    const far = withExpiries(repo, {});
    const rootRole = far.root.roles['root'] as { keyids: readonly string[]; threshold: number };
    const broken = { keytype: 'ecdsa-x509', keyval: { private: null, public: Buffer.from('not a certificate').toString('base64') } };
    const withBroken: VerifiedRepository = {
      ...far,
      root: { ...far.root, keys: { ...far.root.keys, ['f'.repeat(64)]: broken }, roles: { ...far.root.roles, root: { ...rootRole, keyids: [...rootRole.keyids, 'f'.repeat(64)] } } },
    };
    expect(validUntil(withBroken).getTime()).toBe(certNotAfter);
  });

  it('on the real data: the timestamp (14 days) comes first', () => {
    expect(validUntil(repo).getTime()).toBe(repo.timestamp.expiresAt.getTime());
    expect(repo.timestamp.expiresAt.getTime()).toBeLessThan(certNotAfter);
  });
});

describe('validUntil: a root key\'s intermediate certificate', () => {
  // Generated vector root-bundle-expired-intermediate: the root key holds its leaf and an
  // intermediate that expires at 2029-01-01T00:00:00Z, signed under that bundle's key ID. Before
  // then the bundle is the key; after it, the rebuilt key drops the intermediate, its ID changes,
  // and the same bytes stop verifying (notary-rules.md §6 step 3).
  const src = dirSource(join(VECTORS, 'generated', 'root-bundle-expired-intermediate', 'metadata'));
  const INTERMEDIATE_NOT_AFTER = Date.parse('2029-01-01T00:00:00Z');

  it('bounds the reuse of a verification, which is refused once the intermediate has expired', () => {
    const repo = verifyRepository({ gun: GUN, now: new Date('2028-06-01T00:00:00Z'), source: src });
    expect(validUntil(repo).getTime()).toBe(INTERMEDIATE_NOT_AFTER);
    expect(verifyRepository({ gun: GUN, now: new Date(INTERMEDIATE_NOT_AFTER), source: src }).root.version).toBe(repo.root.version);
    expect(() => verifyRepository({ gun: GUN, now: new Date(INTERMEDIATE_NOT_AFTER + 1), source: src })).toThrow(expect.objectContaining({ code: 'ERR_THRESHOLD_NOT_MET', role: 'root' }));
  });
});

describe('delegation certificates', () => {
  it('a SHA-1 delegation certificate is refused naming the role, the check and the one key (generated vector delegation-sha1-cert)', () => {
    const src = dirSource(join(VECTORS, 'generated', 'delegation-sha1-cert', 'metadata'));
    let e: unknown;
    try {
      verifyRepository({ gun: GUN, now: NOW, source: src });
    } catch (x) {
      e = x;
    }
    expect(e).toMatchObject({ code: 'ERR_DELEGATION_CERT_INVALID', role: 'targets/c', check: 'delegation certificate' });
    const keyIds = (e as { keyIds: string[] }).keyIds;
    expect(keyIds).toHaveLength(1);
    expect((e as Error).message).toContain(`targets/c: the certificate of key ${keyIds[0]} is not acceptable`);
  });
});
