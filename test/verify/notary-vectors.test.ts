/**
 * Every scenario the real Notary 0.7.0 made (vectors/notary-0.7.0) must verify at its
 * generation time, and every tag must resolve to what the real client answered.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyTrustDir } from '../../src/trust-dir/reader.js';
import { findTarget, listTargets, lookupTarget, NOTARY_ROLE_ORDER } from '../../src/verify/lookup.js';
import { dirSource, expectTrustError, NOTARY, readJson, scenarios } from '../helpers/vectors.js';
import { TAMPER_EXPECTED } from '../helpers/tamper.js';
import { verifyRepository } from '../../src/verify/repository.js';

const all = scenarios();

describe('real Notary 0.7.0 scenarios', () => {
  it('has the ten scenarios the README describes', () => {
    expect(all.map((s) => s.name)).toEqual([
      'basic', 'custom-root-cert', 'delegation', 'ed25519', 'edge', 'hub-like',
      'root-rotation', 'rsa', 'server-managed', 'targets-rotation',
    ]);
  });

  for (const s of all) {
    describe(s.name, () => {
      const repo = () => verifyTrustDir({ gun: s.gun, trustDir: s.trustDir, now: s.now });

      it('verifies at generated_at', () => {
        const r = repo();
        expect(r.gun).toBe(s.gun);
        expect([...r.roles.keys()].sort()).toEqual(Object.keys(s.expected.targets_by_role).sort());
      });

      it('notary list: every name resolves to the digest, length and role the client printed', () => {
        const listed = listTargets(repo(), { roles: NOTARY_ROLE_ORDER });
        const got = Object.fromEntries(listed.map((t) => [t.name, { sha256: t.digest.replace('sha256:', ''), length: t.length, role: t.role }]));
        expect(got).toEqual(s.expected.targets);
      });

      it('notary lookup: default order [targets] answers like the client, missing names fail', () => {
        const r = repo();
        for (const [name, l] of Object.entries(s.expected.notary_lookup)) {
          const hit = findTarget(r, name, NOTARY_ROLE_ORDER);
          if (l.exit === 0) {
            expect(hit && { sha256: hit.digest.slice(7), length: hit.length }, name).toEqual({ sha256: l.result?.sha256, length: l.result?.length });
          } else {
            expect(hit, name).toBeUndefined();
            expectTrustError(() => lookupTarget(r, name, { roles: NOTARY_ROLE_ORDER }), 'ERR_TARGET_NOT_FOUND');
          }
        }
      });

      // Only some scenarios recorded `notary list --roles`; the others have nothing to compare.
      if (Object.keys(s.expected.notary_list_by_role ?? {}).length > 0) it('notary list --roles R: per-role listings match', () => {
        const r = repo();
        for (const [role, rows] of Object.entries(s.expected.notary_list_by_role ?? {})) {
          const got = listTargets(r, { roles: [role] }).map((t) => ({ name: t.name, sha256: t.digest.slice(7), length: t.length, role: t.role }));
          expect(got.sort((a, b) => a.name.localeCompare(b.name)), role).toEqual([...rows].sort((a, b) => a.name.localeCompare(b.name)));
        }
      });

      it('docker precedence: targets/releases first, then targets, nothing else', () => {
        const r = repo();
        const byRole = s.expected.targets_by_role;
        const names = new Set(Object.values(byRole).flatMap((m) => Object.keys(m)));
        for (const name of names) {
          const want = byRole['targets/releases']?.[name] ? 'targets/releases' : byRole['targets']?.[name] ? 'targets' : undefined;
          if (want) {
            const t = lookupTarget(r, name);
            expect({ role: t.role, digest: t.digest }, name).toEqual({ role: want, digest: `sha256:${byRole[want]?.[name]?.sha256}` });
          } else {
            // Signed only by another delegation (e.g. targets/alice): docker refuses it.
            expectTrustError(() => lookupTarget(r, name), 'ERR_TARGET_NOT_FOUND');
          }
        }
      });

      it('fails once the timestamp has expired (14 days)', () => {
        const later = new Date(s.now.getTime() + 15 * 24 * 3600 * 1000);
        expectTrustError(() => verifyTrustDir({ gun: s.gun, trustDir: s.trustDir, now: later }), 'ERR_METADATA_EXPIRED', 'timestamp');
      });

      it('refuses the data under another GUN (root certificate CN)', () => {
        const source = dirSource(s.metadataDir);
        expectTrustError(() => verifyRepository({ gun: `${s.gun}x`, source, now: s.now }), 'ERR_ROOT_CERT_INVALID', 'root');
      });
    });
  }
});

interface TamperCase {
  case: string;
  repository: string;
  gun: string;
  fixture: string;
  offline: { exit: number };
}


describe('tampered copies (vectors/notary-0.7.0/tamper)', () => {
  const { cases } = readJson<{ cases: TamperCase[] }>(join(NOTARY, 'tamper', 'results.json'));
  const nowOf = Object.fromEntries(all.map((s) => [s.name, s.now]));

  it('covers every recorded case', () => {
    expect(cases.map((c) => c.case).sort()).toEqual(Object.keys(TAMPER_EXPECTED).sort());
  });

  for (const c of cases) {
    it(`${c.case}: notary offline exit ${c.offline.exit}, trustgate agrees and names the role and check`, () => {
      const run = () => verifyTrustDir({ gun: c.gun, trustDir: join(NOTARY, 'tamper', c.fixture), now: nowOf[c.repository] as Date });
      const want = TAMPER_EXPECTED[c.case];
      if (want === null) {
        expect(c.offline.exit).toBe(0);
        expect(run().gun).toBe(c.gun);
        return;
      }
      expect(c.offline.exit).toBe(1);
      const err = expectTrustError(run, want?.code as never, want?.role) as Error & { check?: string };
      expect(err.check).toBeTruthy();
    });
  }
});
