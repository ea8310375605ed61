/**
 * The benchmark's inputs and baselines, checked for what they claim (no timings here: those are
 * only reported by `npm run bench`). A bench that measured the wrong repository, a floor that
 * skipped its signatures or a peer that verified nothing would still print plausible numbers.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM module without types
import { NOW, GUN, distribution, generateRepo } from '../../bench/repo.mjs';
// @ts-expect-error -- plain ESM module without types
import { ROLE_ORDER, floor, nativeSignatures, nobleSignatures, prepareSignatures } from '../../bench/floor.mjs';
// @ts-expect-error -- plain ESM module without types
import { generateTufRepo, verifyTufRepo } from '../../bench/tuf-peer.mjs';
import { verifyRepository } from '../../src/verify/repository.js';
import { listTargets, NOTARY_ROLE_ORDER } from '../../src/verify/lookup.js';

type Files = Record<string, Buffer>;
const digestOf = (files: Files) =>
  createHash('sha256')
    .update(JSON.stringify(Object.entries(files).map(([r, b]) => [r, createHash('sha256').update(b).digest('hex')])))
    .digest('hex');

describe('bench harness', () => {
  const files = generateRepo(1000) as Files;

  it('generates the same bytes from the seed every time', () => {
    expect(digestOf(generateRepo(1000) as Files)).toBe(digestOf(files));
    expect(Object.keys(files).sort()).toEqual([...(ROLE_ORDER as string[])].sort());
  });

  it('the repository is a valid Notary repository with its targets spread over the delegation tree', () => {
    const repo = verifyRepository({ gun: GUN, source: (role) => files[role], now: new Date(NOW) });
    const want = distribution(1000) as Record<string, number>;
    for (const [role, n] of Object.entries(want)) expect(repo.roles.get(role)?.targets.size, role).toBe(n);
    expect(Object.values(want).reduce((a, b) => a + b, 0)).toBe(1000);
    // Every target is reachable through notary's lookup (paths allow each role's names).
    expect(listTargets(repo, { roles: NOTARY_ROLE_ORDER })).toHaveLength(1000);
  });

  it('the floor verifies every signature, natively and with noble, and refuses a changed file', () => {
    expect(() => floor(files)).not.toThrow();
    const jobs = prepareSignatures(files);
    expect(jobs.length).toBe(ROLE_ORDER.length);
    expect(() => nativeSignatures(jobs)).not.toThrow();
    expect(() => nobleSignatures(jobs)).not.toThrow();
    const changed = { ...files, targets: Buffer.from(files['targets']!.toString('utf8').replace('"length":', '"length":1')) };
    expect(() => floor(changed)).toThrow(/targets does not verify/);
  });

  it('the @tufjs/models peer loads and verifies the same number of targets', () => {
    const tuf = generateTufRepo(100);
    expect(verifyTufRepo(tuf, new Date(NOW))).toBe(100);
    const tampered = { ...tuf, 'targets/c': Buffer.from(tuf['targets/c'].toString('utf8').replace('"length":', '"length":1')) };
    expect(() => verifyTufRepo(tampered, new Date(NOW))).toThrow(/Expected length \d+ but got \d+/);
  });
});
