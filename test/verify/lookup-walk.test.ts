/**
 * The lookup walk's boundaries (src/verify/lookup.ts, notary-rules.md §8.1–8.4, §9.3) on a signed
 * repository: a sibling whose name extends a priority role's name is not inside it, a strict
 * ancestor of the priority role is passed through without being read, each role of the priority
 * list is searched without the others, and a target without a 32-byte sha256 names no digest.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error untyped mjs
import { build, digestOf, ecKey, fileMeta, keyId, NOW, GUN } from '../../scripts/lib/notary-writer.mjs';
import { verifyRepository } from '../../src/verify/repository.js';
import { allTargetsByName, findTarget, listTargets, lookupTarget } from '../../src/verify/lookup.js';
import { expectTrustError } from '../helpers/vectors.js';

type Model = Record<string, { signed: Record<string, any>; signers: unknown[] }>;
const K2 = ecKey('releases-sibling');

/** The base repository plus `targets/releases2` (paths [""]) holding v1 and r2, and targets holding `short`. */
function repository() {
  const files = build({
    edit: (m: Model) => {
      const d = m['targets']!.signed['delegations'];
      d.keys[keyId(K2)] = K2.json;
      d.roles.push({ keyids: [keyId(K2)], name: 'targets/releases2', paths: [''], threshold: 1 });
      m['targets/releases2'] = {
        signed: { _type: 'Targets', delegations: { keys: {}, roles: [] }, expires: '2099-01-01T00:00:00Z', targets: { v1: fileMeta('v1 in releases2'), r2: fileMeta('r2 in releases2') }, version: 1 },
        signers: [K2],
      };
      m['targets']!.signed['targets']['short'] = { hashes: { sha256: Buffer.alloc(31, 1).toString('base64') }, length: 3 };
    },
  }) as Record<string, Uint8Array>;
  return verifyRepository({ gun: GUN, source: (r) => files[r], now: new Date(NOW) });
}

describe('lookup walk', () => {
  const repo = repository();

  it('loads the sibling role (the repository is what the cases below assume)', () => {
    expect(repo.roles.has('targets/releases2')).toBe(true);
  });

  it('targets/releases2 is not inside targets/releases: docker answers v1 from targets, r2 not at all', () => {
    expect(lookupTarget(repo, 'v1')).toMatchObject({ role: 'targets', digest: digestOf('v1 in targets') });
    expect(findTarget(repo, 'r2', ['targets/releases'])).toBeUndefined();
    expect(findTarget(repo, 'r2', ['targets/releases2'])).toMatchObject({ role: 'targets/releases2' });
    // Docker's walk of `targets` reaches the sibling, and the refusal names it.
    expect((expectTrustError(() => lookupTarget(repo, 'r2'), 'ERR_TARGET_NOT_FOUND') as Error & { role?: string }).role).toBe('targets/releases2');
    expect((expectTrustError(() => lookupTarget(repo, 'nothing'), 'ERR_TARGET_NOT_FOUND') as Error & { role?: string }).role).toBeUndefined();
    expect(listTargets(repo).map((t) => t.name).sort()).toEqual(['latest', 'short', 'v1', 'v2']);
  });

  it('a hit only in a role docker does not read is refused with that role named', () => {
    const e = expectTrustError(() => lookupTarget(repo, 'deep'), 'ERR_TARGET_NOT_FOUND');
    expect(e).toMatchObject({ role: 'targets/c', check: 'target lookup', actual: 'deep' });
    expect(e.message).toBe(`${GUN}: no signed target "deep" in targets/releases or targets (only targets/c signs it, which docker does not accept)`);
  });

  it('a strict ancestor of the priority role is passed through, not read', () => {
    expect(findTarget(repo, 'foobar1', ['targets/a/b'])).toMatchObject({ role: 'targets/a/b' });
    expect(findTarget(repo, 'foo1', ['targets/a/b'])).toBeUndefined();
    expect(findTarget(repo, 'v1', ['targets/a'])).toBeUndefined();
    expect(findTarget(repo, 'foo1', ['targets/a'])).toMatchObject({ role: 'targets/a' });
  });

  it('each priority role is searched without the other listed roles, in list order', () => {
    expect(findTarget(repo, 'latest', ['targets', 'targets/releases'])).toMatchObject({ role: 'targets', digest: digestOf('latest in targets') });
    expect(findTarget(repo, 'latest', ['targets/releases', 'targets'])).toMatchObject({ role: 'targets/releases' });
    expect(findTarget(repo, 'v2', ['targets', 'targets/releases'])).toMatchObject({ role: 'targets/releases' });
    // Searching `targets` without targets/c still reaches targets/a/b (a allows "deep"), breadth first.
    expect(findTarget(repo, 'deep', ['targets', 'targets/c'])).toMatchObject({ role: 'targets/a/b' });
    expect(findTarget(repo, 'deep', ['targets/c', 'targets'])).toMatchObject({ role: 'targets/c' });
    expect(findTarget(repo, 'deep', ['targets'])).toMatchObject({ role: 'targets/c' });
    const listed = listTargets(repo, { roles: ['targets', 'targets/releases'] });
    expect(listed.find((t) => t.name === 'latest')).toMatchObject({ role: 'targets' });
    expect(listed.find((t) => t.name === 'v2')).toMatchObject({ role: 'targets/releases' });
    expect(listed.find((t) => t.name === 'deep')).toMatchObject({ role: 'targets/c' });
    // Notary's ListTargets walks each listed role without the others: `targets` without targets/c
    // reaches "deep" in targets/a/b first (breadth first, c would come before a/b).
    expect(listTargets(repo, { roles: ['targets', 'targets/c'] }).find((t) => t.name === 'deep')).toMatchObject({ role: 'targets/a/b' });
    expect(listTargets(repo, { roles: ['targets'] }).find((t) => t.name === 'deep')).toMatchObject({ role: 'targets/c' });
    expect(listTargets(repo, { roles: ['targets/releases'] }).map((t) => t.name).sort()).toEqual(['latest', 'v2']);
  });

  it('a target without custom data has no custom field at all', () => {
    expect(Object.hasOwn(findTarget(repo, 'v1') as object, 'custom')).toBe(false);
    expect(listTargets(repo).some((t) => Object.hasOwn(t, 'custom'))).toBe(false);
  });

  it('a target whose sha256 is 31 bytes has no digest and is refused by lookupTarget', () => {
    expect(findTarget(repo, 'short')).toMatchObject({ role: 'targets', digest: '' });
    const e = expectTrustError(() => lookupTarget(repo, 'short'), 'ERR_TARGET_NO_SHA256', 'targets');
    expect(e).toMatchObject({ check: 'target sha256' });
    expect(e.message).toBe(`${GUN}: target "short" in targets has no valid 32-byte sha256 hash`);
  });

  it('allTargetsByName: every role holding the name, breadth first; with "" every target', () => {
    expect(allTargetsByName(repo, 'v1').map((t) => t.role)).toEqual(['targets', 'targets/releases2']);
    expect(allTargetsByName(repo, 'deep').map((t) => t.role)).toEqual(['targets/c', 'targets/a/b']);
    const all = allTargetsByName(repo, '');
    expect(all.filter((t) => t.role === 'targets/releases2').map((t) => t.name).sort()).toEqual(['r2', 'v1']);
  });
});

describe('lookup misuse', () => {
  const repo = repository();
  const misuse = (f: () => unknown, message: string) => {
    let e: unknown;
    try {
      f();
    } catch (x) {
      e = x;
    }
    expect(e, message).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', check: 'argument', message });
  };
  const NOT_REPO = 'repo must be a verified repository, as verifyRepository returns it';

  it('something that is not a verified repository is refused by every function', () => {
    for (const bad of [{}, { roles: new Map() }, { gun: GUN, roles: {} }, { gun: 1, roles: new Map() }]) {
      misuse(() => lookupTarget(bad as never, 'v1'), NOT_REPO);
      misuse(() => findTarget(bad as never, 'v1'), NOT_REPO);
      misuse(() => listTargets(bad as never), NOT_REPO);
      misuse(() => allTargetsByName(bad as never, 'v1'), NOT_REPO);
    }
    misuse(() => lookupTarget(null as never, 'v1'), 'repo must be an object, got null');
  });

  it('a repository shape without a targets role finds nothing rather than crashing', () => {
    const empty = { gun: GUN, roles: new Map() } as never;
    expect(findTarget(empty, 'v1')).toBeUndefined();
    expect(listTargets(empty)).toEqual([]);
    expect(allTargetsByName(empty, '')).toEqual([]);
    expectTrustError(() => lookupTarget(empty, 'v1'), 'ERR_TARGET_NOT_FOUND');
  });

  it('a name that is not a string, options that are not an object, roles that are not names', () => {
    misuse(() => lookupTarget(repo, 5 as never), 'name must be a string, got number 5');
    misuse(() => findTarget(repo, 5 as never), 'name must be a string, got number 5');
    misuse(() => allTargetsByName(repo, 5 as never), 'name must be a string, got number 5');
    misuse(() => lookupTarget(repo, 'v1', null as never), 'options must be an object, got null');
    misuse(() => listTargets(repo, 'x' as never), 'options must be an object, got string "x"');
    misuse(() => lookupTarget(repo, 'v1', { roles: 'targets' as never }), 'options.roles must be an array of role names');
    misuse(() => listTargets(repo, { roles: ['targets', 5] as never }), 'options.roles must be an array of role names');
    misuse(() => findTarget(repo, 'v1', 'targets' as never), 'roles must be an array of role names');
    misuse(() => findTarget(repo, 'v1', [5] as never), 'roles must be an array of role names');
  });

  it('an explicit role list answers from any listed role, including roles docker ignores', () => {
    expect(lookupTarget(repo, 'deep', { roles: ['targets/c'] })).toMatchObject({ role: 'targets/c' });
    // Notary's order: the walk of `targets` reaches its delegations.
    expect(lookupTarget(repo, 'v2', { roles: ['targets'] })).toMatchObject({ role: 'targets/releases' });
    const e = expectTrustError(() => lookupTarget(repo, 'nothing', { roles: ['targets', 'targets/c'] }), 'ERR_TARGET_NOT_FOUND');
    expect(e.message).toBe(`${GUN}: no signed target "nothing" in targets, targets/c`);
    expect(listTargets(repo, { roles: ['targets/c'] }).map((t) => t.role)).toEqual(['targets/c']);
  });
});
