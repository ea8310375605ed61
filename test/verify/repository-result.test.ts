/**
 * What verifyRepository returns (src/verify/repository.ts): each role's summary — name, version,
 * expires as written and as a Date, the key IDs whose signatures counted — and the root's keys and
 * roles, compared with the files themselves (vectors/generated/base-valid), not with the verifier.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { verifyRepository } from '../../src/verify/repository.js';
import { VECTORS } from '../helpers/vectors.js';

const DIR = join(VECTORS, 'generated', 'base-valid', 'metadata');
const bytes = (r: string) => new Uint8Array(readFileSync(join(DIR, `${r}.json`)));
interface Envelope {
  signed: { version: number; expires: string; keys?: Record<string, unknown>; roles?: Record<string, unknown> };
  signatures: { keyid: string }[];
}
const file = (r: string) => JSON.parse(readFileSync(join(DIR, `${r}.json`), 'utf8')) as Envelope;
const GUN = 'example.com/trustgate/repo';
const NOW = new Date('2030-01-01T00:00:00Z');

describe('the verified repository', () => {
  // Verified in each test, not at collection: a mutation run activates its mutant per test.
  let repo: ReturnType<typeof verifyRepository>;
  beforeEach(() => {
    repo = verifyRepository({ gun: GUN, now: NOW, source: (r) => bytes(r) });
  });

  it('root, timestamp and snapshot summaries are the files\' own fields and signer key IDs', () => {
    for (const name of ['root', 'timestamp', 'snapshot'] as const) {
      const f = file(name);
      expect(repo[name], name).toMatchObject({
        name,
        version: f.signed.version,
        expires: f.signed.expires,
        expiresAt: new Date(f.signed.expires),
        signedBy: f.signatures.map((s) => s.keyid),
      });
    }
    expect(repo.root.keys).toEqual(file('root').signed.keys);
    expect(repo.root.roles).toEqual(file('root').signed.roles);
  });

  it('the result names the GUN, the clock, the mode, nothing skipped, and a trusted state holding the root text and every version', () => {
    expect(repo).toMatchObject({ gun: GUN, verifiedAt: NOW, mode: 'strict', skipped: [] });
    expect(repo.trustedState.root).toBe(readFileSync(join(DIR, 'root.json'), 'utf8'));
    const versions: Record<string, number> = {};
    for (const r of ['root', 'timestamp', 'snapshot', ...repo.roles.keys()]) versions[r] = file(r).signed.version;
    expect(repo.trustedState).toEqual({ gun: GUN, root: repo.trustedState.root, versions });
  });

  it('each targets role carries its version, expiry and signers from its file', () => {
    for (const [name, role] of repo.roles) {
      const f = file(name);
      expect(role, name).toMatchObject({ name, version: f.signed.version, expires: f.signed.expires, expiresAt: new Date(f.signed.expires), signedBy: f.signatures.map((s) => s.keyid) });
    }
  });

  it('each targets role carries the keys and threshold its parent lists, its effective paths, and its own delegations', () => {
    const top = file('targets').signed as unknown as { delegations: { keys: Record<string, unknown>; roles: { name: string; keyids: string[]; threshold: number }[] } };
    const rootRoles = file('root').signed.roles as Record<string, { keyids: string[]; threshold: number }>;
    const rootKeys = file('root').signed.keys as Record<string, unknown>;
    const targets = repo.roles.get('targets');
    expect(targets).toMatchObject({ threshold: rootRoles['targets']!.threshold, paths: [''], delegations: top.delegations.roles, delegationKeys: top.delegations.keys });
    expect(targets!.keys).toEqual(Object.fromEntries(rootRoles['targets']!.keyids.map((id) => [id, rootKeys[id]])));
    const a = repo.roles.get('targets/a');
    const entryA = top.delegations.roles.find((d) => d.name === 'targets/a')!;
    expect(a).toMatchObject({ threshold: entryA.threshold, paths: ['foo', 'deep'] });
    expect(a!.keys).toEqual(Object.fromEntries(entryA.keyids.map((id) => [id, top.delegations.keys[id]])));
    // a/b lists ["foobar","bar","","deep"] under a's ["foo","deep"]: what survives (notary-rules.md §7.8.2).
    expect(repo.roles.get('targets/a/b')!.paths).toEqual(['foobar', 'deep']);
  });
});
