/**
 * Boundaries of the chain that are not data of one vector (issue 17): the trusted state keeps
 * every rollback floor it proved, and the delegation-count limit at its exact value.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyRepository } from '../../src/verify/repository.js';
import { dirSource, expectTrustError, readJson, VECTORS } from '../helpers/vectors.js';

const BASE = join(VECTORS, 'generated', 'base-valid');
const { gun, now } = readJson<{ gun: string; now: string }>(join(BASE, 'case.json'));
const base = { gun, now: new Date(now), source: dirSource(join(BASE, 'metadata')) };

// The versions the generator writes into base-valid (scripts/lib/notary-writer.mjs baseModel).
const PROVEN = { root: 1, timestamp: 4, snapshot: 3, targets: 2, 'targets/releases': 1, 'targets/a': 1, 'targets/a/b': 1, 'targets/c': 1 };

describe('trusted state', () => {
  it('holds a floor for every role verified: root, timestamp, snapshot, targets and each delegation', () => {
    const { trustedState } = verifyRepository(base);
    expect(trustedState.gun).toBe(gun);
    expect(trustedState.versions).toEqual(PROVEN);
  });

  it.each(Object.keys(PROVEN))('each floor it returns is enforced: %s one version higher is a rollback', (role) => {
    const { trustedState } = verifyRepository(base);
    const raised = { ...trustedState, versions: { ...trustedState.versions, [role]: (trustedState.versions[role] as number) + 1 } };
    // The raised root floor is met by no cached root: the same bytes, a higher floor.
    expectTrustError(() => verifyRepository({ ...base, trustedState: raised }), 'ERR_VERSION_ROLLBACK', role);
  });

  it('a floor equal to the version passes; old floors, and floors of roles not seen now, are kept', () => {
    const { trustedState } = verifyRepository(base);
    const extra = { ...trustedState, versions: { ...trustedState.versions, 'targets/gone': 7 } };
    const again = verifyRepository({ ...base, trustedState: extra });
    expect(again.trustedState.versions).toEqual({ ...PROVEN, 'targets/gone': 7 });
    const lower = verifyRepository({ ...base, trustedState: { ...trustedState, versions: { root: 1, targets: 1 } } });
    expect(lower.trustedState.versions).toEqual(PROVEN);
  });
});

describe('delegation count limit', () => {
  it('maxDelegations equal to the number of delegations passes; one fewer refuses the last one loaded', () => {
    // base-valid delegates to four roles: targets/releases, targets/a, targets/a/b, targets/c.
    expect([...verifyRepository({ ...base, limits: { maxDelegations: 4 } }).roles.keys()]).toHaveLength(5);
    const e = expectTrustError(() => verifyRepository({ ...base, limits: { maxDelegations: 3 } }), 'ERR_METADATA_TOO_LARGE', 'targets/c');
    expect(e).toMatchObject({ check: 'delegation count', expected: 3 });
    expectTrustError(() => verifyRepository({ ...base, limits: { maxDelegations: 1 } }), 'ERR_METADATA_TOO_LARGE', 'targets/a');
  });
});

describe('rotation refusal', () => {
  it("names the previous root's threshold and the keys it was checked against", () => {
    const dir = join(VECTORS, 'generated', 'rotation-previous-threshold-two-one-old-signature');
    const trusted = readFileSync(join(dir, 'trusted-root.json'), 'utf8');
    const e = expectTrustError(
      () => verifyRepository({ gun, now: new Date(now), source: dirSource(join(dir, 'metadata')), trustedState: { gun, root: trusted, versions: {} } }),
      'ERR_ROOT_ROTATION_FAILED',
      'root',
    );
    expect(e).toMatchObject({ check: 'root rotation', expected: 2 });
    const keyIds = (e as unknown as { keyIds: string[] }).keyIds;
    expect(keyIds).toHaveLength(2);
    for (const id of keyIds) expect(id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('says why when the previous root has no certificate left to check against (CN mismatch, weak)', () => {
    for (const name of ['rotation-previous-cert-cn-mismatch', 'rotation-previous-cert-sha1', 'rotation-previous-cert-rsa-1024']) {
      const dir = join(VECTORS, 'generated', name);
      const trusted = readFileSync(join(dir, 'trusted-root.json'), 'utf8');
      const e = expectTrustError(
        () => verifyRepository({ gun, now: new Date(now), source: dirSource(join(dir, 'metadata')), trustedState: { gun, root: trusted, versions: {} } }),
        'ERR_ROOT_ROTATION_FAILED',
        'root',
      );
      expect(e, name).toMatchObject({ check: 'root rotation', keyIds: [] });
      expect((e.cause as Error).message, name).toBe('the previous root has no usable certificate');
    }
  });
});
