/**
 * Rotation through the caller's intermediate roots (src/verify/trusted-root.ts, notary-rules.md
 * §7.6) on the real Notary root-rotation scenario: only versions strictly between the trusted and
 * the cached root are used, in version order, each once, whatever order and extras the caller
 * passes; the floors the result carries start from the cached root.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyRepository } from '../../src/verify/repository.js';
import { tufKeyId } from '../../src/tuf/keys.js';
import { dirSource, expectTrustError, scenario, VECTORS } from '../helpers/vectors.js';

const rot = scenario('root-rotation');
const server = (f: string) => new Uint8Array(readFileSync(join(rot.dir, 'server', f)));
const text = (f: string) => readFileSync(join(rot.dir, 'server', f), 'utf8');
const base = { gun: rot.gun, source: dirSource(rot.metadataDir), now: rot.now };
const from = (root: string, version: number) => ({ gun: rot.gun, root, versions: { root: version } });

describe('rotation through intermediate roots', () => {
  it('extras outside (trusted, cached), duplicates and any order: the same result as [2.root.json]', () => {
    const inter = [server('3.root.json'), server('2.root.json'), server('1.root.json'), server('2.root.json')];
    const repo = verifyRepository({ ...base, trustedState: from(text('1.root.json'), 1), intermediateRoots: inter });
    expect(repo.root.version).toBe(3);
    expect(repo.trustedState.versions['root']).toBe(3);
  });

  it('only out-of-range versions given: nothing bridges v1 to v3', () => {
    expectTrustError(
      () => verifyRepository({ ...base, trustedState: from(text('1.root.json'), 1), intermediateRoots: [server('1.root.json'), server('3.root.json')] }),
      'ERR_ROOT_ROTATION_FAILED',
      'root',
    );
  });

  it('a trusted v2 rotates to v3 directly; the v2 file as intermediate is not needed and not harmful', () => {
    expect(verifyRepository({ ...base, trustedState: from(text('2.root.json'), 2) }).root.version).toBe(3);
    expect(verifyRepository({ ...base, trustedState: from(text('2.root.json'), 2), intermediateRoots: [server('2.root.json')] }).root.version).toBe(3);
  });

  it('the trusted root being the cached root itself: no rotation, the floor applies to its version', () => {
    expect(verifyRepository({ ...base, trustedState: from(text('3.root.json'), 3) }).root.version).toBe(3);
    expectTrustError(() => verifyRepository({ ...base, trustedState: from(text('3.root.json'), 4) }), 'ERR_VERSION_ROLLBACK', 'root');
  });

  it('a rolled-back cache is reported as a rollback before any signature is checked, with both versions', () => {
    let e: unknown;
    try {
      verifyRepository({ ...base, source: dirSource(rot.metadataDir, { root: server('2.root.json') }), trustedState: from(text('3.root.json'), 3) });
    } catch (x) {
      e = x;
    }
    expect(e).toMatchObject({ code: 'ERR_VERSION_ROLLBACK', role: 'root', check: 'trusted root', expected: 3, actual: 2 });
    expect((e as Error).message).toBe('root version 2 is lower than the trusted root version 3');
  });

  it('an unreadable intermediate root or trusted root is refused as a root error', () => {
    const caught = (f: () => unknown) => {
      try {
        f();
      } catch (x) {
        return x as { code: string; role: string; message: string };
      }
      throw new Error('expected a refusal');
    };
    for (const [bad, code] of [['not json', 'ERR_METADATA_MALFORMED'], ['{"signed":{},"signatures":[]}', 'ERR_METADATA_MALFORMED']] as const) {
      const inter = [server('2.root.json'), new Uint8Array(Buffer.from(bad))];
      const e = caught(() => verifyRepository({ ...base, trustedState: from(text('1.root.json'), 1), intermediateRoots: inter }));
      expect(e, bad).toMatchObject({ code, role: 'root' });
      expect(caught(() => verifyRepository({ ...base, trustedState: from(bad, 1) })), bad).toMatchObject({ code, role: 'root' });
    }
  });
});

describe('two intermediate roots for one version (vectors/generated/rotation-chain-two-roots-claim-one-version*)', () => {
  const GEN = join(VECTORS, 'generated');
  for (const id of ['rotation-chain-two-roots-claim-one-version', 'rotation-chain-two-roots-claim-one-version-real-first']) {
    it(`${id}: refused as a rotation failure naming the version, in either order`, () => {
      const dir = join(GEN, id);
      const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { gun: string; now: string; intermediate_roots: string[] };
      let e: unknown;
      try {
        verifyRepository({
          gun: c.gun,
          source: dirSource(join(dir, 'metadata')),
          now: new Date(c.now),
          trustedState: { gun: c.gun, root: readFileSync(join(dir, 'trusted-root.json'), 'utf8'), versions: {} },
          intermediateRoots: c.intermediate_roots.map((f) => new Uint8Array(readFileSync(join(dir, f)))),
        });
      } catch (x) {
        e = x;
      }
      expect(e).toMatchObject({ code: 'ERR_ROOT_ROTATION_FAILED', role: 'root', check: 'intermediate roots', actual: 3 });
      expect((e as Error).message).toBe('two different intermediate roots claim version 3');
    });
  }
});

describe('rotation: a previous root key whose certificate holds neither an EC nor an RSA key', () => {
  // A self-signed Ed25519 certificate for the vectors' GUN (openssl req -x509 -newkey ed25519, no extensions: a leaf, not a CA).
  // Notary turns only EC and RSA certificates into keys and ignores the rest (notary-rules.md §6).
  const ED25519_CERT = '-----BEGIN CERTIFICATE-----\nMIIBBDCBtwIUDwPzqUy30yml6XY0n3mer8PcGOswBQYDK2VwMCUxIzAhBgNVBAMM\nGmV4YW1wbGUuY29tL3RydXN0Z2F0ZS9yZXBvMB4XDTI2MTIwMzA4MDczMVoXDTM2\nMTEzMDA4MDczMVowJTEjMCEGA1UEAwwaZXhhbXBsZS5jb20vdHJ1c3RnYXRlL3Jl\ncG8wKjAFBgMrZXADIQACodSfUeA7hLcOK9w2Hhe0vpflXXvkcSEAcsSj8rFl8jAF\nBgMrZXADQQATJsyR0Kp8p+92KhipS9uurTfHIXS6NRNN54g6RTawjQo1AhDEaK/a\n/wA+GM37bbPc5V4P9x3JTKZRp+8G9wUI\n-----END CERTIFICATE-----\n';

  it("is left out of the previous root's keys: the rotation rests on the usable one and succeeds", () => {
    const dir = join(VECTORS, 'generated', 'rotation-signed-by-both');
    const trusted = JSON.parse(readFileSync(join(dir, 'trusted-root.json'), 'utf8')) as {
      signed: { keys: Record<string, unknown>; roles: { root: { keyids: string[] } } };
    };
    const publicB64 = Buffer.from(ED25519_CERT, 'latin1').toString('base64');
    const id = tufKeyId('ecdsa-x509', publicB64);
    trusted.signed.keys[id] = { keytype: 'ecdsa-x509', keyval: { private: null, public: publicB64 } };
    trusted.signed.roles.root.keyids.push(id);
    const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { gun: string; now: string };
    const run = (root: string) =>
      verifyRepository({ gun: c.gun, now: new Date(c.now), mode: 'strict', source: dirSource(join(dir, 'metadata')), trustedState: { gun: c.gun, root, versions: {} } });
    const r = run(JSON.stringify(trusted));
    expect(r.root.version).toBe(2);
    expect([...r.roles.keys()]).toContain('targets');
  });
});
