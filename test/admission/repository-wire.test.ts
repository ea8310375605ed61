/**
 * The verified repository as it crosses from a verifier worker to the server thread
 * (src/admission/repository-wire.ts): after structured clone, every lookup the decision makes —
 * docker's tag resolution, digest-only resolution, every role holding a tag, a listing, a miss —
 * answers exactly as on the repository the verifier returned. Real Notary vectors and the bench
 * generator's 10k-target repository (delegations included).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TrustError } from '../../src/errors.js';
import { narrowToDigest, repositoryFromWire, repositoryToWire } from '../../src/admission/repository-wire.js';
import { verifyTrustDir } from '../../src/trust-dir/reader.js';
import { allTargetsByName, listTargets } from '../../src/verify/lookup.js';
import { resolveReference } from '../../src/verify/resolve.js';
import { validUntil } from '../../src/verify/valid-until.js';
import type { VerifiedRepository } from '../../src/verify/types.js';
// @ts-expect-error: the bench generator is plain JavaScript without types
import { GUN, NOW, generateRepo, writeTrustDir } from '../../bench/repo.mjs';
import { BASIC, DELEG, HUB, NOW as VECTOR_NOW } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'trustgate-wire-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** What a lookup answers, or the error it throws (code and message). */
function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message };
  }
}

function expectSameLookups(a: VerifiedRepository, b: VerifiedRepository): void {
  expect([...b.roles.keys()]).toEqual([...a.roles.keys()]);
  for (const [name, role] of a.roles) expect([...(b.roles.get(name)?.targets.keys() ?? [])]).toEqual([...role.targets.keys()]);
  const listed = listTargets(a);
  // As JSON text: a deep comparison of 10k objects is slow in the test runner, and this is exact.
  expect(JSON.stringify(listTargets(b))).toBe(JSON.stringify(listed));
  expect(JSON.stringify(allTargetsByName(b, ''))).toBe(JSON.stringify(allTargetsByName(a, '')));
  const names = [...new Set([...a.roles.values()].flatMap((r) => [...r.targets.keys()]))];
  const sample = names.length > 300 ? names.filter((_, i) => i % Math.ceil(names.length / 300) === 0) : names;
  for (const name of [...sample, 'no-such-tag', '__proto__', 'constructor']) {
    expect(JSON.stringify(outcome(() => allTargetsByName(b, name)))).toBe(JSON.stringify(outcome(() => allTargetsByName(a, name))));
    expect(JSON.stringify(outcome(() => resolveReference(b, { tag: name })))).toBe(JSON.stringify(outcome(() => resolveReference(a, { tag: name }))));
  }
  expect(outcome(() => resolveReference(b, {}))).toEqual(outcome(() => resolveReference(a, {})));
  // Digest-only references: on the whole copy, and on the copy narrowed to the digest (what the
  // decision resolves on), for digests of every role (a name may carry another digest elsewhere).
  const every = allTargetsByName(a, '');
  const digests = [...new Set(every.map((t) => t.digest))];
  const some = digests.length > 40 ? [...digests.slice(0, 3), ...every.filter((t) => t.role !== 'targets').slice(0, 20).map((t) => t.digest)] : digests;
  for (const digest of [...new Set(some), `sha256:${'0'.repeat(64)}`]) {
    const want = JSON.stringify(outcome(() => resolveReference(a, { digest })));
    if (digests.length <= 40) expect(JSON.stringify(outcome(() => resolveReference(b, { digest }))), digest).toBe(want);
    expect(JSON.stringify(outcome(() => resolveReference(narrowToDigest(b, digest), { digest }))), digest).toBe(want);
  }
  expect(validUntil(b)).toEqual(validUntil(a));
  expect(b.trustedState).toEqual(a.trustedState);
  expect(b.timestamp).toEqual(a.timestamp);
}

describe('repositoryToWire / repositoryFromWire', () => {
  it.each([HUB, DELEG, BASIC])('real Notary data ($gun): every lookup answers as before the crossing', (v) => {
    const repo = verifyTrustDir({ gun: v.gun, trustDir: v.trustDir, now: VECTOR_NOW });
    const back = repositoryFromWire(structuredClone(repositoryToWire(repo)));
    expectSameLookups(repo, back);
  });

  it('a 10k-target repository with delegations crosses as a few flat strings, not one object per target', () => {
    const dir = join(tmp, 'trust');
    writeTrustDir(dir, generateRepo(10_000));
    const repo = verifyTrustDir({ gun: GUN as string, trustDir: dir, now: new Date(NOW as string) });
    const wire = repositoryToWire(repo);
    for (const r of wire.roles) expect(Object.keys(r.targets).sort()).toEqual(['nameEnds', 'names', 'valueEnds', 'values']);
    expect(wire.byDigest.starts.length).toBe(10_000);
    expect(wire.roles.reduce((n, r) => n + r.targets.nameEnds.length, 0)).toBe(10_000);
    expectSameLookups(repo, repositoryFromWire(structuredClone(wire)));
  });

  it('a role the online-equivalent mode skipped crosses with its TrustError, code and role kept', () => {
    const repo = verifyTrustDir({ gun: DELEG.gun, trustDir: DELEG.trustDir, now: VECTOR_NOW, mode: 'online-equivalent' });
    const error = new TrustError('ERR_METADATA_EXPIRED', 'targets/alice expired', { role: 'targets/alice', check: 'expiry' });
    const back = repositoryFromWire(structuredClone(repositoryToWire({ ...repo, skipped: [{ role: 'targets/alice', error }] })));
    expect(back.skipped[0]?.error).toBeInstanceOf(TrustError);
    expect(back.skipped[0]?.error).toMatchObject({ code: 'ERR_METADATA_EXPIRED', role: 'targets/alice', check: 'expiry', message: 'targets/alice expired' });
  });
});
