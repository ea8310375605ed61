import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDockerTag, parseJson, run, scenarios, VECTORS, type Scenario, type VerifyDoc } from './helpers.js';
import { TAMPER_EXPECTED } from '../helpers/tamper.js';

const ALL = scenarios();

type Expectation = { ok: true; sha256: string; length: number; role: string } | { ok: false; role: string | undefined };

/** What `docker pull` accepts (spec §9.3), derived from what the real notary client listed. */
function dockerExpectation(s: Scenario, tag: string): Expectation {
  const released = s.byRole['targets/releases']?.find((t) => t.name === tag);
  if (released) return released.role === 'targets/releases' ? { ok: true, ...released } : { ok: false, role: released.role };
  const t = s.targets[tag];
  if (t === undefined) return { ok: false, role: undefined };
  return t.role === 'targets' ? { ok: true, ...t } : { ok: false, role: t.role };
}

/** Key IDs whose signatures on the role's file are valid, per the independent analysis. */
function validSigners(s: Scenario, role: string): string[] {
  const file = s.facts.files[`${role}.json`];
  if (!file) throw new Error(`${s.name}: no facts for ${role}.json`);
  return file.signatures.filter((x) => x.valid).map((x) => x.keyid).sort();
}

function checkOk(s: Scenario, r: VerifyDoc['results'][number] | undefined, tag: string, e: { sha256: string; length: number; role: string }) {
  const label = `${s.name} ${tag}`;
  expect(r, label).toBeDefined();
  if (!r?.ok) throw new Error(`${label}: expected success, got ${JSON.stringify(r)}`);
  expect({ gun: r.gun, tag: r.tag, digest: r.digest, length: r.length, role: r.role }, label).toEqual({
    gun: s.gun,
    tag,
    digest: `sha256:${e.sha256}`,
    length: e.length,
    role: e.role,
  });
  expect([...r.signers].sort(), label).toEqual(validSigners(s, e.role));
}

describe('verify on every real-Notary scenario (docker precedence)', () => {
  for (const s of ALL) {
    const tags = Object.keys(s.targets).filter(isDockerTag);
    const good = tags.filter((t) => dockerExpectation(s, t).ok);
    const refused = tags.filter((t) => !dockerExpectation(s, t).ok);

    it(`${s.name}: every tag docker accepts verifies, and each digest verifies by digest`, () => {
      const digests = [...new Set(good.map((t) => (dockerExpectation(s, t) as { sha256: string }).sha256))];
      const refs = [...good.map((t) => `${s.gun}:${t}`), ...digests.map((d) => `${s.gun}@sha256:${d}`)];
      const r = run(['verify', '--json', '--trust-dir', s.trustDir, '--now', s.now, ...refs]);
      expect(r.code, r.stderr).toBe(0);
      const doc = parseJson<VerifyDoc>(r);
      expect(doc.ok).toBe(true);
      expect(doc.results.map((x) => x.ref)).toEqual(refs);
      good.forEach((t, i) => checkOk(s, doc.results[i], t, dockerExpectation(s, t) as { sha256: string; length: number; role: string }));
      digests.forEach((d, i) => {
        const res = doc.results[good.length + i];
        if (!res?.ok) throw new Error(`${s.name} @${d}: ${JSON.stringify(res)}`);
        const withDigest = good.filter((t) => (dockerExpectation(s, t) as { sha256: string }).sha256 === d);
        expect(res.digest).toBe(`sha256:${d}`);
        expect([...(res.tags ?? [])].sort()).toEqual([...withDigest].sort());
        expect(res.tag).toBe(res.tags?.[0]);
      });
    });

    it(`${s.name}: unsigned and non-release tags are refused with exit 1`, () => {
      const refs = [...refused.map((t) => `${s.gun}:${t}`), `${s.gun}:no-such-tag`, `${s.gun}@sha256:${'0'.repeat(64)}`];
      const r = run(['verify', '--json', '--trust-dir', s.trustDir, '--now', s.now, ...refs]);
      expect(r.code, r.stderr).toBe(1);
      const doc = parseJson<VerifyDoc>(r);
      expect(doc.ok).toBe(false);
      refused.forEach((t, i) => {
        const res = doc.results[i];
        if (res === undefined || res.ok) throw new Error(`${s.name} ${t}: expected refusal`);
        expect(res.error.code).toBe('ERR_TARGET_NOT_FOUND');
        expect(res.error.role).toBe((dockerExpectation(s, t) as { role: string }).role);
      });
      const [missing, digest] = doc.results.slice(refused.length);
      expect(missing).toMatchObject({ ok: false, gun: s.gun, tag: 'no-such-tag', error: { code: 'ERR_TARGET_NOT_FOUND' } });
      expect(digest).toMatchObject({ ok: false, gun: s.gun, tag: null, error: { code: 'ERR_TARGET_NOT_FOUND' } });
    });

    it(`${s.name}: --any-role answers what notary lookup answered, --role follows the given order`, () => {
      const anyRole = run(['verify', '--json', '--any-role', '--trust-dir', s.trustDir, '--now', s.now, ...tags.map((t) => `${s.gun}:${t}`)]);
      expect(anyRole.code, anyRole.stderr).toBe(0);
      const doc = parseJson<VerifyDoc>(anyRole);
      tags.forEach((t, i) => checkOk(s, doc.results[i], t, s.targets[t] as Scenario['targets'][string]));

      for (const [role, listed] of Object.entries(s.byRole)) {
        const named = listed.filter((t) => isDockerTag(t.name));
        const r = run(['verify', '--json', '--role', role, '--trust-dir', s.trustDir, '--now', s.now, ...named.map((t) => `${s.gun}:${t.name}`)]);
        expect(r.code, r.stderr).toBe(0);
        const d = parseJson<VerifyDoc>(r);
        named.forEach((t, i) => checkOk(s, d.results[i], t.name, t));
      }
    });
  }

  it('a target name that is not a docker tag is a usage error (exit 2), other images are still reported, its digest does not count', () => {
    const edge = ALL.find((s) => s.name === 'edge');
    if (!edge) throw new Error('edge scenario missing');
    const odd = Object.keys(edge.targets).find((t) => !isDockerTag(t));
    expect(odd).toBeDefined();
    const oddDigest = `sha256:${edge.targets[odd as string]?.sha256}`;
    const refs = [`${edge.gun}:${odd}`, `${edge.gun}:big`, `${edge.gun}@${oddDigest}`];
    const r = run(['verify', '--json', '--trust-dir', edge.trustDir, '--now', edge.now, ...refs]);
    expect(r.code).toBe(2);
    const doc = parseJson<VerifyDoc>(r);
    expect(doc.ok).toBe(false);
    expect(doc.results[0]).toMatchObject({ ok: false, gun: null, tag: null, error: { code: 'ERR_INVALID_REFERENCE' } });
    expect(doc.results[1]).toMatchObject({ ok: true, tag: 'big', role: 'targets' });
    // Its digest is signed only under that name, which is not a tag.
    expect(doc.results[2]).toMatchObject({ ok: false, gun: edge.gun, tag: null, error: { code: 'ERR_TARGET_NOT_FOUND' } });
  });
});

describe('verify on the tampered copies (tamper/results.json)', () => {
  interface Case {
    case: string;
    repository: string;
    gun: string;
    file: string;
    fixture: string;
    offline: { exit: number };
  }
  const { cases } = JSON.parse(readFileSync(join(VECTORS, 'tamper', 'results.json'), 'utf8')) as { cases: Case[] };
  const expected = TAMPER_EXPECTED;

  it('covers every recorded case', () => {
    expect(cases.map((c) => c.case).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const c of cases) {
    it(`${c.case}: exit ${c.offline.exit} like notary offline`, () => {
      const s = ALL.find((x) => x.name === c.repository);
      if (!s) throw new Error(`unknown repository ${c.repository}`);
      const trustDir = join(VECTORS, 'tamper', c.fixture);
      const tags = Object.keys(s.targets).filter(isDockerTag);
      const r = run(['verify', '--json', '--trust-dir', trustDir, '--now', s.now, ...tags.map((t) => `${c.gun}:${t}`)]);
      const want = expected[c.case];
      const doc = parseJson<VerifyDoc>(r);
      if (want === null || want === undefined) {
        expect(r.code, r.stderr).toBe(0);
        expect(doc.ok).toBe(true);
        return;
      }
      expect(r.code).toBe(1);
      expect(c.offline.exit).toBe(1);
      expect(doc.ok).toBe(false);
      for (const res of doc.results) {
        if (res.ok) throw new Error(`${c.case}: ${res.ref} verified`);
        expect(res.error.code).toMatch(/^ERR_[A-Z0-9_]+$/);
        expect({ code: res.error.code, role: res.error.role }).toEqual(want);
      }
    });
  }
});
