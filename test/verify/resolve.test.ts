/**
 * `resolveReference` (notary-rules.md §9.3) on the real Notary vectors, in-process: the answers
 * the CLI and admission build on. (resolve-agreement.test.ts checks the same against the CLI's
 * dist/ build and is outside the mutation set.)
 */
import { describe, expect, it } from 'vitest';
import { resolveReference } from '../../src/verify/resolve.js';
import { verifyTrustDir } from '../../src/trust-dir/reader.js';
import type { VerifiedRepository } from '../../src/verify/types.js';
import { caught, scenario } from '../helpers/vectors.js';

const load = (name: string) => {
  const s = scenario(name);
  return { s, repo: verifyTrustDir({ gun: s.gun, trustDir: s.trustDir, now: s.now }) };
};
const hub = load('hub-like');
const basic = load('basic');
const sha = (s: { expected: { targets: Record<string, { sha256: string }> } }, tag: string) => `sha256:${(s.expected.targets[tag] as { sha256: string }).sha256}`;

describe('resolveReference', () => {
  it('a tag resolves in docker order (targets/releases, then targets); no tag means latest', () => {
    expect(resolveReference(hub.repo, { tag: 'v1' })).toMatchObject({ tag: 'v1', target: { role: 'targets/releases', digest: sha(hub.s, 'v1') } });
    expect(resolveReference(hub.repo, {})).toMatchObject({ tag: 'latest', target: { role: 'targets', digest: sha(hub.s, 'latest') } });
    expect(resolveReference(hub.repo, {}).signedTags).toBeUndefined();
  });

  it('tag@digest: the signed digest must be that digest', () => {
    expect(resolveReference(hub.repo, { tag: 'v1', digest: sha(hub.s, 'v1') })).toMatchObject({ tag: 'v1', target: { digest: sha(hub.s, 'v1') } });
    expect(caught(() => resolveReference(hub.repo, { tag: 'v1', digest: sha(hub.s, 'latest') }))['message']).toBe(`${hub.s.gun}: tag "v1" is signed as ${sha(hub.s, 'v1')}, not ${sha(hub.s, 'latest')}`);
    expect(caught(() => resolveReference(hub.repo, { tag: 'v1', digest: sha(hub.s, 'latest') }))).toMatchObject({
      code: 'ERR_TARGET_NOT_FOUND',
      check: 'digest match',
      role: 'targets/releases',
      expected: sha(hub.s, 'v1'),
      actual: sha(hub.s, 'latest'),
    });
  });

  it('a digest alone: every tag carrying it, in natural order, the first deciding', () => {
    const r = resolveReference(basic.repo, { digest: sha(basic.s, 'v2') });
    expect(r.signedTags).toEqual(['latest', 'v2']);
    expect(r).toMatchObject({ tag: undefined, target: { name: 'latest', digest: sha(basic.s, 'v2') } });
    const zero = `sha256:${'0'.repeat(64)}`;
    const e = caught(() => resolveReference(basic.repo, { digest: zero }));
    expect(e).toMatchObject({ code: 'ERR_TARGET_NOT_FOUND', check: 'signed digest', actual: zero });
    expect(e['message']).toBe(`${basic.s.gun}: no tag in targets/releases or targets is signed with ${zero}`);
  });

  it('the role order can be given: each role is a subtree, searched in order', () => {
    expect(caught(() => resolveReference(hub.repo, { tag: 'v1' }, { roles: ['targets/none'] }))).toMatchObject({ code: 'ERR_TARGET_NOT_FOUND' });
    expect(caught(() => resolveReference(hub.repo, { digest: sha(hub.s, 'v1') }, { roles: ['targets/none', 'targets/x'] }))['message']).toContain('no tag in targets/none, targets/x is signed');
    expect(resolveReference(hub.repo, { digest: sha(hub.s, 'v1') }, { roles: ['targets/bob'] })).toMatchObject({ target: { role: 'targets/bob' }, signedTags: ['v1'] });
  });

  it('only tag-like names vouch for a digest', () => {
    const top = basic.repo.roles.get('targets');
    const v1 = top?.targets.get('v1');
    if (!top || !v1) throw new Error('vector changed');
    // The real repository with v1's digest also listed under a name docker could not pull by tag.
    const edited: VerifiedRepository = { ...basic.repo, roles: new Map([...basic.repo.roles].map(([n, r]) => [n, n === 'targets' ? { ...r, targets: new Map([...r.targets, ['not/a tag', v1]]) } : r])) };
    expect(resolveReference(edited, { digest: sha(basic.s, 'v1') }).signedTags).toEqual(['v1']);
    const only = { ...edited, roles: new Map([...edited.roles].map(([n, r]) => [n, n === 'targets' ? { ...r, targets: new Map([['not/a tag', v1]]) } : r])) };
    expect(caught(() => resolveReference(only, { digest: sha(basic.s, 'v1') }))).toMatchObject({ code: 'ERR_TARGET_NOT_FOUND', check: 'signed digest' });
  });

  it('misuse is ERR_INVALID_ARGUMENT, not a lookup miss', () => {
    for (const ref of [null, 'v1', { tag: 1 }, { digest: 2 }, { tag: 'v1', digest: null }]) {
      expect(caught(() => resolveReference(hub.repo, ref as never)), JSON.stringify(ref)).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('resolveReference needs a reference with a tag, a digest or both, as strings') });
    }
    expect(caught(() => resolveReference({ gun: 'x', roles: {} } as never, { tag: 'v1' }))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
