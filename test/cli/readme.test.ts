/**
 * The README's command-line examples run as shown: every admission policy in its "Policy"
 * section goes through the built `trustgate check` against the bundled real-Notary vectors, each
 * `$ trustgate check …` transcript gives the output it shows, the synopsis lists every command,
 * and no shell example can pull `name@null`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, run } from './helpers.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'trustgate-readme-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function section(title: string): string {
  const start = README.indexOf(`\n${title}\n`);
  if (start < 0) throw new Error(`README has no section ${title}`);
  const next = README.slice(start + title.length + 2).search(/\n#{1,3} /);
  return next < 0 ? README.slice(start) : README.slice(start, start + title.length + 2 + next);
}

const blocks = (text: string, lang: string) => [...text.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1] as string);

const policySection = section('### Policy');
const policies = blocks(policySection, 'json')
  .map((text) => JSON.parse(text) as Record<string, unknown>)
  .filter((p) => 'rules' in p && 'default' in p);

/** `$ trustgate check …` lines (with `\` continuations joined) and the first output line after each. */
function transcripts(text: string): Array<{ args: string[]; shown: string }> {
  const lines = blocks(text, 'sh').flatMap((b) => b.replace(/\\\n\s*/g, '').split('\n'));
  const out: Array<{ args: string[]; shown: string }> = [];
  lines.forEach((line, i) => {
    const m = /^\$ trustgate (check .*)$/.exec(line);
    if (m) out.push({ args: (m[1] as string).trim().split(/\s+/), shown: lines[i + 1] ?? '' });
  });
  return out;
}

describe('README: admission policies run in trustgate check', () => {
  it('the Policy section has a policy and transcripts of it', () => {
    expect(policies.length).toBeGreaterThan(0);
    expect(transcripts(policySection).length).toBeGreaterThan(0);
  });

  it('every policy of the section is accepted by trustgate check (no exit 2) and decides the vectors', () => {
    for (const [i, policy] of policies.entries()) {
      const file = join(tmp, `policy-${i}.json`);
      writeFileSync(file, JSON.stringify(policy));
      for (const image of ['docker.io/acme/hub:v1', 'quay.io/acme/old:1', 'ghcr.io/x/y:1']) {
        const r = run(['check', image, '--policy', file, '--trust-dir', join(ROOT, 'vectors/notary-0.7.0/hub-like/trust'), '--now', '2026-11-27T03:00:00Z']);
        expect([0, 1], `policy ${i}, ${image}: ${r.stderr}`).toContain(r.code);
      }
    }
  });

  it('each `$ trustgate check` transcript prints what the README shows', () => {
    const file = join(tmp, 'policy.json');
    writeFileSync(file, JSON.stringify(policies[0]));
    for (const { args, shown } of transcripts(policySection)) {
      const r = run(args.map((a) => (a === 'policy.json' ? file : a.startsWith('vectors/') ? join(ROOT, a) : a)));
      const [verdict, image, code] = shown.split(/\s+/);
      expect(r.stdout.split(/\s+/).slice(0, 2), args.join(' ')).toEqual([verdict, image]);
      expect(r.code, r.stderr).toBe(verdict === 'ALLOW' ? 0 : 1);
      if (verdict === 'DENY') expect(r.stdout).toContain(code?.replace(/:$/, ''));
    }
  });
});

describe('README: command line', () => {
  it('the synopsis and trustgate --help list every command', () => {
    const synopsis = blocks(section('## Command line'), '')[0] ?? '';
    const help = run(['--help']).stdout;
    for (const command of ['verify', 'inspect', 'check', 'admission serve']) {
      expect(synopsis, command).toContain(`trustgate ${command} `);
      expect(help, command).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  it('no example takes a digest with plain jq -r: a failed verification must not pull name@null', () => {
    const jq = [...README.matchAll(/\| *jq (-\w+)/g)].map((m) => m[1]);
    expect(jq.length).toBeGreaterThan(0);
    for (const flags of jq) expect(flags).toContain('e');
  });
});
