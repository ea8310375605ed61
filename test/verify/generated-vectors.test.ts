/**
 * Negative (and a few positive) vectors generated with fixed keys for every pitfall of spec §13
 * and the stricter rules of §14 — see vectors/generated/README.md and scripts/generate-vectors.mjs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyRepository } from '../../src/verify/repository.js';
import { allTargetsByName, findTarget, lookupTarget, NOTARY_ROLE_ORDER } from '../../src/verify/lookup.js';
import type { FailurePolicy, RootPins } from '../../src/verify/types.js';
import { dirSource, expectTrustError, VECTORS } from '../helpers/vectors.js';

type Expected = { role: string; digest: string } | { error: string } | null;
interface Case {
  description: string;
  spec: string;
  gun: string;
  now: string;
  mode: FailurePolicy;
  trusted_root?: string;
  /** The caller's intermediate roots, in the order they are passed (notary-rules.md §7.6). */
  intermediate_roots?: string[];
  pins?: RootPins;
  expect:
    | {
        ok: true;
        lookups: { docker?: Record<string, Expected>; notary?: Record<string, Expected> };
        roles?: string[];
        skipped?: { role: string; code: string }[];
        inspect?: string[];
      }
    | { error: { code: string; role: string } };
}

const GENERATED = join(VECTORS, 'generated');
const ids = readdirSync(GENERATED).filter((d) => existsSync(join(GENERATED, d, 'case.json'))).sort();

describe('generated vectors', () => {
  it('exist (run npm run vectors:generate)', () => {
    expect(ids.length).toBeGreaterThan(60);
  });

  for (const id of ids) {
    const dir = join(GENERATED, id);
    const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Case;
    it(`${id} (${c.spec}): ${c.description}`, () => {
      const run = () =>
        verifyRepository({
          gun: c.gun,
          source: dirSource(join(dir, 'metadata')),
          now: new Date(c.now),
          mode: c.mode,
          ...(c.pins ? { pins: c.pins } : {}),
          ...(c.trusted_root ? { trustedState: { gun: c.gun, root: readFileSync(join(dir, c.trusted_root), 'utf8'), versions: {} } } : {}),
          ...(c.intermediate_roots ? { intermediateRoots: c.intermediate_roots.map((f) => new Uint8Array(readFileSync(join(dir, f)))) } : {}),
        });
      if ('error' in c.expect) {
        const err = expectTrustError(run, c.expect.error.code as never, c.expect.error.role);
        expect(err.message.length).toBeGreaterThan(10);
        return;
      }
      const repo = run();
      if (c.expect.roles) expect([...repo.roles.keys()]).toEqual(c.expect.roles);
      expect(repo.skipped.map((s) => ({ role: s.role, code: s.error.code }))).toEqual(c.expect.skipped ?? []);
      for (const [name, want] of Object.entries(c.expect.lookups.docker ?? {})) {
        if (want === null) expectTrustError(() => lookupTarget(repo, name), 'ERR_TARGET_NOT_FOUND');
        else if ('error' in want) expectTrustError(() => lookupTarget(repo, name), want.error as never);
        else expect(lookupTarget(repo, name), `docker ${name}`).toMatchObject(want);
      }
      for (const [name, want] of Object.entries(c.expect.lookups.notary ?? {})) {
        const hit = findTarget(repo, name, NOTARY_ROLE_ORDER);
        if (want === null) expect(hit, `notary ${name}`).toBeUndefined();
        else if (!('error' in want)) expect(hit, `notary ${name}`).toMatchObject(want);
      }
      if (c.expect.inspect) {
        // Roles in walk order; within a role the order of a Go map is unspecified, so sort names.
        const all = allTargetsByName(repo, '');
        const roleOrder = [...new Set(all.map((t) => t.role))];
        const got = roleOrder.flatMap((r) => all.filter((t) => t.role === r).map((t) => `${r} ${t.name}`).sort());
        expect(got).toEqual(c.expect.inspect);
      }
    });
  }
});

describe('custom numbers as Notary reads them', () => {
  it('custom {"a":1.0,"b":1e2} verifies against a signature over {"a":1,"b":100}, and the lookup answers the integers', () => {
    const dir = join(GENERATED, 'custom-integral-float');
    const file = readFileSync(join(dir, 'metadata', 'targets.json'), 'utf8');
    expect(file).toContain('"custom":{"a":1.0,"b":1e2}');
    const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Case;
    const repo = verifyRepository({ gun: c.gun, source: dirSource(join(dir, 'metadata')), now: new Date(c.now) });
    expect(lookupTarget(repo, 'v1').custom).toEqual({ a: 1, b: 100 });
  });
});
