/**
 * One resolver: `trustgate verify`, `trustgate check` and `checkAdmission` name the same tag, digest
 * and role for the same reference (issue 11). The repository signs one digest as both `v9` and
 * `v10`, where natural order (v9 first) and code-unit order (v10 first) disagree.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkAdmission, trustDirTrustSource } from '../../src/admission/index.js';
import { run } from '../cli/helpers.js';
import { readJson, VECTORS } from '../helpers/vectors.js';

const CASE = join(VECTORS, 'generated', 'digest-signed-as-v9-and-v10');
const meta = readJson<{ gun: string; now: string; expect: { lookups: { docker: Record<string, { digest: string }> } } }>(join(CASE, 'case.json'));
const { gun, now } = meta;
const digest = (meta.expect.lookups.docker['v9'] as { digest: string }).digest;

const dir = mkdtempSync(join(tmpdir(), 'trustgate-resolve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const trustDir = join(dir, 'trust');
cpSync(join(CASE, 'metadata'), join(trustDir, 'tuf', gun, 'metadata'), { recursive: true });
const policy = join(dir, 'policy.json');
writeFileSync(policy, JSON.stringify({ rules: [], default: {} }));

const REFS = [`${gun}@${digest}`, `${gun}:v9`, `${gun}:v10`, `${gun}:v10@${digest}`, `${gun}:latest`];

describe('one reference resolver for the CLI and admission', () => {
  it.each(REFS)('%s: verify, check and checkAdmission agree', async (ref) => {
    const cli = run(['verify', ref, '--trust-dir', trustDir, '--now', now, '--json']);
    const [v] = (JSON.parse(cli.stdout) as { results: Array<Record<string, unknown>> }).results as [Record<string, unknown>];
    const checked = JSON.parse(run(['check', ref, '--policy', policy, '--trust-dir', trustDir, '--now', now, '--json']).stdout) as Record<string, unknown>;
    const lib = await checkAdmission({ image: ref, now: new Date(now) }, { rules: [], default: {} }, { trust: trustDirTrustSource({ trustDir }) });
    for (const d of [checked, lib as unknown as Record<string, unknown>]) {
      expect(d['allowed']).toBe(v['ok']);
      if (v['ok'] === true) {
        expect(d['digest']).toBe(v['digest']);
        expect(d['role']).toBe(v['role']);
        // A digest-only reference: admission lists the tags in the CLI's order, first tag first.
        if (v['tags'] !== undefined) expect(d['signedTags']).toEqual(v['tags']);
      }
    }
  });

  it('a digest signed as v9 and v10 resolves to v9 first', () => {
    const cli = run(['verify', `${gun}@${digest}`, '--trust-dir', trustDir, '--now', now, '--json']);
    expect(JSON.parse(cli.stdout).results[0]).toMatchObject({ ok: true, tag: 'v9', tags: ['v9', 'v10'], digest });
  });
});
