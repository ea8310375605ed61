/**
 * End to end: a signed repository whose targets files hold awkward names (empty, `__proto__`,
 * Map method names, integer-like, JSON punctuation, U+FB01 vs an emoji, long shared prefixes),
 * read once as written (canonical: targets stay text) and once with a space outside `signed`
 * (same signatures, built objects). Every lookup must answer the same both ways, and neither
 * map may show its own fields as keys.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error untyped mjs
import { build, fileMeta, NOW, GUN } from '../../scripts/lib/notary-writer.mjs';
import { verifyRepository } from '../../src/verify/repository.js';
import { allTargetsByName, findTarget, listTargets, lookupTarget } from '../../src/verify/lookup.js';
import { NOTARY_ROLE_ORDER } from '../../src/verify/lookup.js';
import { readDocument } from '../../src/tuf/document.js';

const NAMES = ['', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'size', 'get', '\ufb01', '\u{1f600}', '\uffff', '\ue000', '{', '}', ':', ',', '[', 'latest', 'latest ', 'latesT', '10', '9', '0', 'a'.repeat(300), 'a'.repeat(299), 'é', 'ſ', 'K'];
const PROBES = [...NAMES, 'lates', 'latest\u0000', '\ud83d', '\ude00', 'zzz', '\u{10ffff}', 'v1', 'v2', 'foo1'];

function edit(m: Record<string, { signed: { targets: Record<string, unknown> } }>) {
  const add = (role: string, tag: string) => {
    for (const n of NAMES) {
      const meta = fileMeta(`${n} in ${role} ${tag}`) as Record<string, unknown>;
      if (n.length % 3 === 0) meta['custom'] = { a: [1, { b: null }], z: n };
      Object.defineProperty(m[role]!.signed.targets, n, { value: meta, enumerable: true, writable: true, configurable: true });
    }
  };
  add('targets', 't');
  add('targets/releases', 'r');
  add('targets/c', 'c');
}

function summarize(files: Record<string, Uint8Array>) {
  const repo = verifyRepository({ gun: GUN, source: (r: string) => files[r], now: new Date(NOW) });
  const out: Record<string, unknown> = {};
  for (const role of repo.roles.values()) out[`keys ${role.name}`] = [...role.targets.keys()];
  for (const p of PROBES) {
    let r: unknown;
    try {
      r = lookupTarget(repo, p);
    } catch (e) {
      r = (e as { code: string }).code;
    }
    out[`lookup ${JSON.stringify(p)}`] = r;
    out[`find ${JSON.stringify(p)}`] = findTarget(repo, p, NOTARY_ROLE_ORDER);
    out[`all ${JSON.stringify(p)}`] = allTargetsByName(repo, p);
    for (const role of repo.roles.values()) out[`has ${role.name} ${JSON.stringify(p)}`] = [role.targets.has(p), role.targets.get(p)];
  }
  out['list docker'] = listTargets(repo);
  out['list notary'] = listTargets(repo, { roles: NOTARY_ROLE_ORDER });
  out['all'] = allTargetsByName(repo, '');
  return out;
}

describe('lookups over targets kept as text ≡ over built targets', () => {
  it('awkward names answer the same through every lookup', () => {
    const canon = build({ edit }) as Record<string, Uint8Array>;
    const spaced = build({
      edit,
      bytes: (role: string, buf: Buffer) => (role.startsWith('targets') ? Buffer.from(buf.toString('utf8').replace(',"signatures":', ', "signatures":')) : undefined),
    }) as Record<string, Uint8Array>;
    expect(Buffer.from(canon['targets']!).toString().includes('"__proto__"')).toBe(true);
    for (const r of ['targets', 'targets/releases', 'targets/c']) {
      expect(readDocument(canon[r]!, r, { maxDepth: 64, indexed: 'targets' }).indexed, r).toBeDefined();
      expect(readDocument(spaced[r]!, r, { maxDepth: 64, indexed: 'targets' }).indexed, r).toBeUndefined();
    }
    const a = summarize(canon);
    const b = summarize(spaced);
    expect(a).toEqual(b);
    // The text path really ran, and the answers are the data's.
    expect((a['lookup "latest"'] as { role: string }).role).toBe('targets/releases');
    expect((a['has targets "__proto__"'] as [boolean, { length: number }])[0]).toBe(true);
    for (const files of [canon, spaced]) {
      const repo = verifyRepository({ gun: GUN, source: (r: string) => files[r], now: new Date(NOW) });
      for (const role of repo.roles.values()) expect(Object.keys(role.targets), role.name).toEqual([]);
    }
  });
});
