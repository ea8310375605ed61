/**
 * What a new user tripped on (issue 11), each through the built CLI on real vectors: a `--now`
 * that swallows the image, trust directories named by flag or by DOCKER_CONFIG, the path a
 * missing root.json was searched at, delegations dropped in online-equivalent mode, the --help
 * hint of inspect, and control characters from target names, references and paths.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { escapeTerminal } from '../../src/cli/format.js';
import { isDockerTag, parseJson, ROOT, run, scenarios, type VerifyDoc } from './helpers.js';

const ALL = scenarios();
const scenario = (name: string) => {
  const s = ALL.find((x) => x.name === name);
  if (!s) throw new Error(`${name} scenario missing`);
  return s;
};
const B = scenario('basic');
const tmp = mkdtempSync(join(tmpdir(), 'trustgate-new-user-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A trust directory holding one generated vector's metadata for its GUN (vectors/generated/<case>/metadata). */
function generatedTrustDir(caseName: string, gun: string): string {
  const dir = join(tmp, caseName);
  const metadata = join(dir, 'tuf', ...gun.split('/'), 'metadata');
  mkdirSync(metadata, { recursive: true });
  cpSync(join(ROOT, 'vectors', 'generated', caseName, 'metadata'), metadata, { recursive: true });
  return dir;
}

/** Raw characters a terminal would act on; newlines between lines are fine. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

describe('--now is parsed strictly', () => {
  it('verify --now acme/app:v1 is a usage error about --now that names what was given', () => {
    const r = run(['verify', '--now', 'acme/app:v1']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('trustgate verify: --now: "acme/app:v1" is not an RFC 3339 date-time');
    expect(r.stderr).toContain('looks like an image reference');
    expect(r.stderr).toContain('Run "trustgate verify --help" for usage.');
  });

  it('the same in every command', () => {
    for (const [cmd, extra] of [['inspect', []], ['check', ['--policy', 'p.json']]] as const) {
      const r = run([cmd, ...extra, '--now', 'alpine:3.19']);
      expect(r.code, cmd).toBe(2);
      expect(r.stderr, cmd).toContain(`trustgate ${cmd}: --now: "alpine:3.19" is not an RFC 3339 date-time`);
    }
  });
});

describe('trust directory', () => {
  it('a missing trust directory is exit 2 whether named by --trust-dir or through DOCKER_CONFIG', () => {
    const missing = join(tmp, 'no-such-config');
    const byFlag = run(['verify', '--json', '--trust-dir', join(missing, 'trust'), '--now', B.now, 'acme/app:v1']);
    const byEnv = run(['verify', '--json', '--now', B.now, 'acme/app:v1'], { DOCKER_CONFIG: missing });
    for (const [r, origin] of [[byFlag, '--trust-dir'], [byEnv, 'DOCKER_CONFIG']] as const) {
      expect(r.code, origin).toBe(2);
      const res = parseJson<VerifyDoc>(r).results[0];
      expect(res, origin).toMatchObject({ ok: false, error: { code: 'ERR_TRUST_DIR_UNREADABLE' } });
      if (res?.ok !== false) throw new Error('unreachable');
      expect(res.error.message, origin).toContain(`${join(missing, 'trust')} (from ${origin})`);
    }
  });

  it('no root.json names the directory searched', () => {
    const r = run(['verify', '--trust-dir', B.trustDir, '--now', B.now, 'acme/other:v1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`(searched ${join(B.trustDir, 'tuf', 'docker.io', 'acme', 'other', 'metadata')})`);
  });

  it('a --trust-dir pointing at tuf/ or at the metadata directory suggests the trust directory', () => {
    const tuf = join(B.trustDir, 'tuf');
    const metadata = join(tuf, ...B.gun.split('/'), 'metadata');
    for (const dir of [tuf, metadata]) {
      const r = run(['verify', '--trust-dir', dir, '--now', B.now, 'acme/app:v1']);
      expect(r.code, dir).toBe(1);
      expect(r.stdout, dir).toContain(`did you mean --trust-dir ${B.trustDir}?`);
    }
  });

  it('a path with control characters is printed escaped', () => {
    const odd = join(tmp, 'evil\u001b[31m\u2028dir');
    const r = run(['verify', '--trust-dir', odd, '--now', B.now, 'acme/app:v1']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('evil\\x1b[31m\\u2028dir');
    expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
    const check = run(['check', 'acme/app:v1', '--policy', join(ROOT, 'package.json'), '--trust-dir', odd]);
    expect(check.stdout + check.stderr).not.toMatch(RAW_CONTROL);
  });
});

describe('inspect', () => {
  it('a bad reference gets the --help hint like the other commands', () => {
    const r = run(['inspect', '--trust-dir', B.trustDir, '--now', B.now, 'acme/app:v1', 'UPPER/Case:x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ERR_INVALID_REFERENCE');
    expect(r.stderr).toContain('Run "trustgate inspect --help" for usage.');
  });
});

describe('--mode online-equivalent --json', () => {
  it('lists the delegations it dropped in skipped', () => {
    const gun = 'example.com/trustgate/repo';
    const trustDir = generatedTrustDir('delegation-expired-online-equivalent', gun);
    const r = run(['verify', '--json', '--mode', 'online-equivalent', '--trust-dir', trustDir, '--now', '2030-01-01T00:00:00Z', `${gun}:latest`, gun]);
    expect(r.code, r.stderr).toBe(0);
    const doc = parseJson<VerifyDoc & { skipped: Array<{ gun: string; role: string; code: string; message: string }> }>(r);
    expect(Object.keys(doc)).toEqual(['ok', 'results', 'skipped']);
    expect(doc.skipped).toEqual([{ gun, role: 'targets/a', code: 'ERR_METADATA_EXPIRED', message: expect.stringContaining('targets/a') }]);
    // Once per repository, however many images name it; also on stderr.
    expect(r.stderr.match(/ignoring targets\/a/g)).toHaveLength(1);
  });
});

describe('untrusted text is escaped for the terminal', () => {
  it('escapeTerminal escapes U+2028, DEL, ESC and the rest, and keeps docker-valid odd names', () => {
    expect(escapeTerminal('a\u2028b\u007fc\u001b[2Jd\re\u009bf\u202eg')).toBe('a\\u2028b\\x7fc\\x1b[2Jd\\x0de\\x9bf\\u202eg');
    expect(escapeTerminal('a<b>&c"d\\e/f gh ü')).toBe('a<b>&c"d\\e/f gh ü');
  });

  it("verify's human output escapes the edge vector's target name (with DEL) in the reference and message", () => {
    const edge = scenario('edge');
    const odd = Object.keys(edge.targets).find((t) => !isDockerTag(t)) as string;
    expect(odd).toContain('\u007f');
    const r = run(['verify', '--trust-dir', edge.trustDir, '--now', edge.now, `${edge.gun}:${odd}`]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(escapeTerminal(odd));
    expect(r.stdout).toContain('\\x7f');
    expect(r.stdout).not.toMatch(RAW_CONTROL);
  });

  it('inspect --pretty escapes a target name with U+0001 and a tab (generated vector)', () => {
    const gun = 'example.com/trustgate/repo';
    const trustDir = generatedTrustDir('control-character-raw-in-canonical-form', gun);
    const r = run(['inspect', '--pretty', '--trust-dir', trustDir, '--now', '2030-01-01T00:00:00Z', gun]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('a\\x01b\\x09c');
    expect(r.stdout.replace(/\t/g, ' ')).not.toMatch(RAW_CONTROL); // docker's layout tab in "Root Key:\t" stays
  });

  it('the demo (npm run demo) prints target names escaped', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'demo.mjs')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(escapeTerminal(Object.keys(scenario('edge').targets).find((t) => !isDockerTag(t)) as string));
    expect(r.stdout.replace(/\t/g, ' ')).not.toMatch(RAW_CONTROL);
  });
});
