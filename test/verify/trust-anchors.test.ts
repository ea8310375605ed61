/**
 * Anchors beyond the cache (spec §7.10 caveat): root rotation from a caller's trusted state,
 * version floors, and pinned root key IDs — on the real Notary root-rotation scenario.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyRepository } from '../../src/verify/repository.js';
import { lookupTarget } from '../../src/verify/lookup.js';
import type { TrustedState } from '../../src/verify/types.js';
import { dirSource, expectTrustError, scenario } from '../helpers/vectors.js';

const rot = scenario('root-rotation');
const server = (f: string) => new Uint8Array(readFileSync(join(rot.dir, 'server', f)));
const v1 = readFileSync(join(rot.dir, 'server', '1.root.json'), 'utf8');
const source = dirSource(rot.metadataDir);
const base = { gun: rot.gun, source, now: rot.now };

function stateWithRoot(root: string, versions: Record<string, number> = { root: 1 }): TrustedState {
  return { gun: rot.gun, root, versions };
}

describe('root rotation from a trusted root', () => {
  it('the cache holds root v3; without trusted state it verifies by TOFU', () => {
    const repo = verifyRepository(base);
    expect(repo.root.version).toBe(3);
    expect(repo.trustedState.versions['root']).toBe(3);
  });

  it('v1 → v3 with the server copy of 2.root.json: each step signed by the previous root', () => {
    const repo = verifyRepository({ ...base, trustedState: stateWithRoot(v1), intermediateRoots: [server('2.root.json')] });
    expect(repo.root.version).toBe(3);
    expect(repo.trustedState.root).toBe(readFileSync(join(rot.metadataDir, 'root.json'), 'utf8'));
    expect(lookupTarget(repo, 'v1').role).toBe('targets');
  });

  it('v1 → v3 without 2.root.json fails: v3 is not signed by the v1 root key (as the real client needed 2.root.json)', () => {
    expectTrustError(() => verifyRepository({ ...base, trustedState: stateWithRoot(v1) }), 'ERR_ROOT_ROTATION_FAILED', 'root');
  });

  it('a trusted v3 with a cache rolled back to v1 is refused', () => {
    const v3 = readFileSync(join(rot.metadataDir, 'root.json'), 'utf8');
    const rolledBack = dirSource(rot.metadataDir, { root: server('1.root.json') });
    expectTrustError(
      () => verifyRepository({ ...base, source: rolledBack, trustedState: stateWithRoot(v3, { root: 3 }) }),
      'ERR_VERSION_ROLLBACK',
      'root',
    );
  });

  it('a cached root with the trusted version but other content is a substitution', () => {
    const v1Cache = dirSource(rot.metadataDir, { root: server('1.root.json') });
    const v3 = readFileSync(join(rot.metadataDir, 'root.json'), 'utf8');
    const forged = v3.replace('"version":3', '"version":1');
    expectTrustError(
      () => verifyRepository({ ...base, source: v1Cache, trustedState: stateWithRoot(forged, { root: 1 }) }),
      'ERR_TRUSTED_STATE_MISMATCH',
      'root',
    );
    const e = expectTrustError(() => verifyRepository({ ...base, source: v1Cache, trustedState: stateWithRoot(forged, { root: 1 }) }), 'ERR_TRUSTED_STATE_MISMATCH', 'root');
    expect(e.message).toBe("the cached root has the trusted root's version 1 but different content");
  });

  it('the returned state is accepted again, and a lower targets version than the saved one is a rollback', () => {
    const first = verifyRepository(base);
    expect(verifyRepository({ ...base, trustedState: first.trustedState }).root.version).toBe(3);
    const inflated = { ...first.trustedState, versions: { ...first.trustedState.versions, targets: 99 } };
    expectTrustError(() => verifyRepository({ ...base, trustedState: inflated }), 'ERR_VERSION_ROLLBACK', 'targets');
  });

  it('trusted state for another GUN is a usage error', () => {
    expectTrustError(() => verifyRepository({ ...base, trustedState: { gun: 'docker.io/x/y', root: v1, versions: {} } }), 'ERR_INVALID_ARGUMENT');
  });
});

describe('pinned root key IDs', () => {
  const rootKeyId = 'df19931659c44fbf6647ba748bed4c3fcde61a635eb6613559dcacd6d7481fbe';

  it('pinning the current root key by its TUF key ID (exact GUN or prefix*) passes', () => {
    expect(verifyRepository({ ...base, pins: { certs: { [rot.gun]: [rootKeyId] } } }).root.signedBy).toEqual([rootKeyId]);
    expect(verifyRepository({ ...base, pins: { certs: { 'docker.io/acme/*': [rootKeyId] } } }).root.version).toBe(3);
  });

  it('a valid repository whose root is not the pinned one is refused', () => {
    const other = scenario('basic');
    const otherRoot = 'fc6d72e4'; // any ID that is not this repository's root key
    expectTrustError(
      () => verifyRepository({ gun: other.gun, source: dirSource(other.metadataDir), now: other.now, pins: { certs: { 'docker.io/*': [otherRoot, rootKeyId] } } }),
      'ERR_ROOT_PIN_MISMATCH',
      'root',
    );
  });

  it('pinning a previous root key of the same repository is refused too', () => {
    expectTrustError(
      () => verifyRepository({ ...base, pins: { certs: { [rot.gun]: ['6338b6a3234ab3038445b9cd0683d32270b044dfd2300be6d9dd0134d7812ece'] } } }),
      'ERR_ROOT_PIN_MISMATCH',
      'root',
    );
  });

  it('a pin for another GUN does not apply (TOFU for this one)', () => {
    expect(verifyRepository({ ...base, pins: { certs: { 'docker.io/other/repo': ['00'] } } }).root.version).toBe(3);
  });
});
