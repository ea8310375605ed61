/**
 * Plain JavaScript can call the library with anything. Every public function of src/index.ts
 * refuses a missing or wrong-typed argument with a TrustError `ERR_INVALID_ARGUMENT`, never a
 * raw TypeError from deep inside (and never a pass). The table must name every function export.
 */
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { dirSource, scenario } from './helpers/vectors.js';

const s = scenario('basic');
const repo = api.verifyRepository({ gun: s.gun, source: dirSource(s.metadataDir), now: s.now });
const call = (f: unknown, ...args: unknown[]) => () => (f as (...a: unknown[]) => unknown)(...args);

/** Function exports → calls that must be refused. Classes and total predicates are listed with why. */
const BAD_CALLS: Record<string, (() => unknown)[] | string> = {
  TrustError: 'a class: constructing an error accepts what it is given',
  isTrustError: 'a total predicate: anything that is not a trustgate error is false',
  verifyRepository: [
    call(api.verifyRepository),
    call(api.verifyRepository, null),
    call(api.verifyRepository, { gun: s.gun, now: s.now }),
    call(api.verifyRepository, { gun: s.gun, source: dirSource(s.metadataDir), now: s.now, pins: 'abc' }),
    call(api.verifyRepository, { gun: s.gun, source: dirSource(s.metadataDir), now: s.now, pins: { certIds: 'abc' } }),
    call(api.verifyRepository, { gun: s.gun, source: dirSource(s.metadataDir), now: s.now, limits: 5 }),
  ],
  lookupTarget: [call(api.lookupTarget, repo), call(api.lookupTarget, repo, 5), call(api.lookupTarget, undefined, 'v1'), call(api.lookupTarget, {}, 'v1'), call(api.lookupTarget, repo, 'v1', { roles: 'targets' })],
  findTarget: [call(api.findTarget, repo), call(api.findTarget, undefined, 'v1'), call(api.findTarget, repo, 'v1', 'targets')],
  listTargets: [call(api.listTargets), call(api.listTargets, repo, null), call(api.listTargets, repo, { roles: [1] })],
  allTargetsByName: [call(api.allTargetsByName, repo), call(api.allTargetsByName, undefined, '')],
  resolveReference: [call(api.resolveReference, repo), call(api.resolveReference, repo, { tag: 5 }), call(api.resolveReference, undefined, { tag: 'v1' })],
  verifyTrustDir: [call(api.verifyTrustDir), call(api.verifyTrustDir, {}), call(api.verifyTrustDir, { gun: s.gun, trustDir: 5, now: s.now })],
  trustDirSource: [call(api.trustDirSource), call(api.trustDirSource, s.trustDir), call(api.trustDirSource, undefined, s.gun)],
  defaultTrustDir: [call(api.defaultTrustDir, null), call(api.defaultTrustDir, 'HOME')],
  canonicalBytes: [call(api.canonicalBytes), call(api.canonicalBytes, { a: undefined }), call(api.canonicalBytes, [() => 1])],
  tufKeyId: [call(api.tufKeyId), call(api.tufKeyId, 'ed25519')],
  canonicalKeyId: [call(api.canonicalKeyId), call(api.canonicalKeyId, 'ecdsa-x509', 5)],
  resolvePins: [call(api.resolvePins), call(api.resolvePins, {}, undefined), call(api.resolvePins, { certs: { x: 'id' } }, 'x'), call(api.resolvePins, { ca: 5 }, 'x')],
  parseReference: [call(api.parseReference), call(api.parseReference, 42)],
  formatReference: [call(api.formatReference), call(api.formatReference, { tag: 'v1' })],
  isValidTag: [call(api.isValidTag), call(api.isValidTag, 1)],
};

describe('public functions refuse bad arguments with ERR_INVALID_ARGUMENT', () => {
  it('the table covers every function src/index.ts exports', () => {
    const functions = Object.entries(api).filter(([, v]) => typeof v === 'function').map(([k]) => k).sort();
    expect(Object.keys(BAD_CALLS).sort()).toEqual(functions);
  });

  for (const [name, calls] of Object.entries(BAD_CALLS)) {
    if (typeof calls === 'string') continue;
    it.each(calls.map((f, i) => [i, f] as const))(`${name} #%i`, (_, f) => {
      let caught: unknown;
      try {
        f();
      } catch (e) {
        caught = e;
      }
      expect(api.isTrustError(caught), `${name}: ${String(caught)}`).toBe(true);
      expect((caught as api.TrustError).code, (caught as Error).message).toBe('ERR_INVALID_ARGUMENT');
    });
  }

  it('the good calls still answer', () => {
    expect(api.lookupTarget(repo, 'latest', { roles: api.NOTARY_ROLE_ORDER }).role).toBe('targets');
    expect(api.isValidTag('v1')).toBe(true);
    expect(api.formatReference({ gun: s.gun, tag: 'v1', digest: undefined })).toBe(`${s.gun}:v1`);
    expect(api.resolvePins({ certs: { [`${s.gun.split('/')[0]}/*`]: ['id'] } }, s.gun)).toEqual({ certIds: ['id'] });
  });
});
