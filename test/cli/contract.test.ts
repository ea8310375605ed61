/** The stable CLI contract: exit codes, --json shape, streams, colour, help, version, lazy loading. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, onTerminal, parseJson, ROOT, run, scenarios, type VerifyDoc } from './helpers.js';

const basic = scenarios().find((s) => s.name === 'basic');
if (!basic) throw new Error('basic scenario missing');
const B = basic;
const base = ['--trust-dir', B.trustDir, '--now', B.now];
const ESC = '\u001b[';
const tmp = mkdtempSync(join(tmpdir(), 'trustgate-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('help and version', () => {
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

  it('--version prints package.json version', () => {
    for (const flag of ['--version', '-v']) {
      const r = run([flag]);
      expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('--help for the program and each command goes to stdout with exit 0', () => {
    for (const [args, first] of [
      [['--help'], 'Usage: trustgate <command>'],
      [['help'], 'Usage: trustgate <command>'],
      [['verify', '--help'], 'Usage: trustgate verify'],
      [['help', 'verify'], 'Usage: trustgate verify'],
      [['inspect', '-h'], 'Usage: trustgate inspect'],
    ] as const) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout.startsWith(first), args.join(' ')).toBe(true);
      expect(r.stderr).toBe('');
    }
    const verifyHelp = run(['verify', '--help']).stdout;
    for (const flag of ['--trust-dir', '--now', '--json', '--role', '--any-role', '--pin-root', '--mode']) expect(verifyHelp).toContain(flag);
    expect(run(['inspect', '--help']).stdout).toContain('--pretty');
  });

  it('no command or an unknown command is a usage error on stderr (exit 2)', () => {
    for (const args of [[], ['frobnicate']]) {
      const r = run(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('Usage: trustgate');
    }
  });

  it('help, version and usage errors do not load the verifier; verify does', () => {
    const trace = join(tmp, 'trace.txt');
    const traced = (args: string[]) => {
      writeFileSync(trace, '');
      const r = run(args, { TRUSTGATE_TRACE_FILE: trace }, ['--import', join(ROOT, 'test/cli/fixtures/trace-loads.mjs')]);
      const loaded = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
      const heavy = loaded.filter((u) => u.includes('/node_modules/') || /node:crypto/.test(u) || readsVerifier(u));
      return { r, loaded, heavy };
    };
    for (const args of [['--help'], ['--version'], ['verify', '--help'], ['inspect', '--help'], ['verify', '--mode', 'lax', 'x']]) {
      const { loaded, heavy } = traced(args);
      expect(loaded.some((u) => u.endsWith('/dist/cli.js')), args.join(' ')).toBe(true);
      expect(heavy, args.join(' ')).toEqual([]);
    }
    const { r, heavy } = traced(['verify', ...base, 'docker.io/acme/app:v1']);
    expect(r.code, r.stderr).toBe(0);
    expect(heavy.length).toBeGreaterThan(0);
  });
});

/** True when a dist file defines the verifier's entry point. */
function readsVerifier(url: string): boolean {
  if (!url.startsWith('file:') || !url.includes('/dist/')) return false;
  return /function verifyRepository\b/.test(readFileSync(new URL(url), 'utf8'));
}

describe('exit codes and --json', () => {
  it('0 when every image verifies; stdout is exactly one JSON document with the documented shape', () => {
    const r = run(['verify', '--json', ...base, 'docker.io/acme/app:v1', 'acme/app']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const doc = parseJson<VerifyDoc>(r);
    expect(Object.keys(doc)).toEqual(['ok', 'results']);
    expect(doc.ok).toBe(true);
    for (const res of doc.results) {
      expect(Object.keys(res)).toEqual(['ok', 'ref', 'gun', 'tag', 'digest', 'length', 'role', 'signers']);
      expect(res).toMatchObject({ ok: true, gun: 'docker.io/acme/app', role: 'targets' });
    }
    expect(doc.results[1]).toMatchObject({ ref: 'acme/app', tag: 'latest', digest: `sha256:${B.targets['latest']?.sha256}` });
  });

  it('1 when at least one image is not trusted; results stay in argument order', () => {
    const r = run(['verify', '--json', ...base, 'acme/app:v1', 'acme/app:nope', 'acme/app:v2']);
    expect(r.code).toBe(1);
    const doc = parseJson<VerifyDoc>(r);
    expect(doc.ok).toBe(false);
    expect(doc.results.map((x) => [x.ref, x.ok])).toEqual([
      ['acme/app:v1', true],
      ['acme/app:nope', false],
      ['acme/app:v2', true],
    ]);
    const failed = doc.results[1];
    if (failed === undefined || failed.ok) throw new Error('expected a failure');
    expect(Object.keys(failed)).toEqual(['ok', 'ref', 'gun', 'tag', 'error']);
    expect(failed.error.code).toBe('ERR_TARGET_NOT_FOUND');
    expect(Object.keys(failed.error).every((k) => ['code', 'message', 'role'].includes(k))).toBe(true);
  });

  it('1 with ERR_METADATA_EXPIRED once the timestamp has expired', () => {
    const r = run(['verify', '--json', '--trust-dir', B.trustDir, '--now', '2036-01-01T00:00:00Z', 'acme/app:v1']);
    expect(r.code).toBe(1);
    expect(parseJson<VerifyDoc>(r).results[0]).toMatchObject({ ok: false, error: { code: 'ERR_METADATA_EXPIRED', role: 'timestamp' } });
  });

  it('1 with ERR_METADATA_NOT_FOUND when the trust directory has no data for the GUN', () => {
    const r = run(['verify', '--json', ...base, 'acme/other:v1']);
    expect(r.code).toBe(1);
    expect(parseJson<VerifyDoc>(r).results[0]).toMatchObject({ ok: false, gun: 'docker.io/acme/other', error: { code: 'ERR_METADATA_NOT_FOUND' } });
  });

  it('2 for a bad reference, still with a JSON document that reports every image', () => {
    const r = run(['verify', '--json', ...base, 'acme/app:v1', 'Acme/App:v1', 'acme/app:-x']);
    expect(r.code).toBe(2);
    const doc = parseJson<VerifyDoc>(r);
    expect(doc.results.map((x) => (x.ok ? 'ok' : x.error.code))).toEqual(['ok', 'ERR_INVALID_REFERENCE', 'ERR_INVALID_REFERENCE']);
    expect(r.stderr).toContain('--help');
  });

  it('2 with ERR_TRUST_DIR_UNREADABLE for a --trust-dir that does not exist or is a file', () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    for (const dir of [join(tmp, 'missing'), file]) {
      const r = run(['verify', '--json', '--trust-dir', dir, '--now', B.now, 'acme/app:v1']);
      expect(r.code).toBe(2);
      expect(parseJson<VerifyDoc>(r).results[0]).toMatchObject({ ok: false, error: { code: 'ERR_TRUST_DIR_UNREADABLE' } });
    }
  });

  it('2 for bad flags, with nothing on stdout even under --json', () => {
    const cases: string[][] = [
      ['verify', '--json', ...base],
      ['verify', '--json', '--bogus', ...base, 'acme/app'],
      ['verify', '--json', '--now', 'yesterday', 'acme/app'],
      ['verify', '--json', '--now', '2026-02-30T00:00:00Z', 'acme/app'],
      ['verify', '--json', '--now', '2026-11-27 02:30:55Z', 'acme/app'],
      ['verify', '--json', '--mode', 'lax', 'acme/app'],
      ['verify', '--json', '--role', 'targets/releases', '--any-role', 'acme/app'],
      ['verify', '--json', '--role', 'releases', 'acme/app'],
      ['verify', '--json', '--pin-root', 'abc', 'acme/app'],
      ['verify', '--json', '--trust-dir'],
      ['inspect', '--now', 'soon', 'acme/app'],
      ['inspect', '--json', 'acme/app'],
      ['inspect'],
    ];
    for (const args of cases) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(/^trustgate (verify|inspect): /);
    }
  });

  it('DOCKER_CONFIG/trust is the default trust directory', () => {
    const r = run(['verify', '--json', '--now', B.now, 'acme/app:v1'], { DOCKER_CONFIG: B.dir });
    expect(r.code, r.stdout).toBe(0);
  });

  it('--pin-root accepts the cached root key and refuses another with ERR_ROOT_PIN_MISMATCH', () => {
    const rootIds = B.facts.files['root.json']?.roles?.['root']?.keyids ?? [];
    expect(rootIds.length).toBe(1);
    const good = run(['verify', '--json', ...base, '--pin-root', rootIds[0] as string, 'acme/app:v1']);
    expect(good.code, good.stdout).toBe(0);
    const bad = run(['verify', '--json', ...base, '--pin-root', 'ab'.repeat(32), 'acme/app:v1']);
    expect(bad.code).toBe(1);
    expect(parseJson<VerifyDoc>(bad).results[0]).toMatchObject({ ok: false, error: { code: 'ERR_ROOT_PIN_MISMATCH', role: 'root' } });
  });

  it('--mode online-equivalent verifies intact data like strict', () => {
    const r = run(['verify', '--json', ...base, '--mode', 'online-equivalent', 'acme/app:v1']);
    expect(r.code, r.stdout).toBe(0);
  });

  it('name:tag@digest must match the digest the tag is signed with', () => {
    const v1 = B.targets['v1']?.sha256 ?? '';
    const v2 = B.targets['v2']?.sha256 ?? '';
    const r = run(['verify', '--json', ...base, `acme/app:v1@sha256:${v1}`, `acme/app:v1@sha256:${v2}`]);
    expect(r.code).toBe(1);
    const [match, mismatch] = parseJson<VerifyDoc>(r).results;
    expect(match).toMatchObject({ ok: true, tag: 'v1', digest: `sha256:${v1}` });
    expect(mismatch).toMatchObject({ ok: false, tag: 'v1', error: { code: 'ERR_TARGET_NOT_FOUND', role: 'targets' } });
  });
});

describe('human output', () => {
  const args = ['verify', ...base, 'acme/app:v1', 'acme/app:nope'];

  it('one line per image on stdout, naming digest, role and signers, or the code, role and failed check', () => {
    const r = run(args);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^OK +acme/app:v1 +sha256:${B.targets['v1']?.sha256} +role targets +signed by [0-9a-f]{12}$`));
    expect(lines[1]).toMatch(/^FAIL +acme\/app:nope +ERR_TARGET_NOT_FOUND \(check: target lookup\): /);
    expect(r.stdout).not.toContain(ESC);
    const tampered = run(['verify', '--trust-dir', join(B.dir, '..', 'tamper', 'timestamp-signature', 'trust'), '--now', B.now, 'acme/app:v1']);
    expect(tampered.stdout).toMatch(/^FAIL +acme\/app:v1 +ERR_THRESHOLD_NOT_MET \(role timestamp, check: [^)]+\): /);
  });

  it('colour only when forced or on a TTY, never with NO_COLOR, never in --json', () => {
    expect(run(args, { FORCE_COLOR: '1' }).stdout).toContain(ESC);
    expect(run(args, { FORCE_COLOR: '1', NO_COLOR: '1' }).stdout).not.toContain(ESC);
    const json = run(['verify', '--json', ...base, 'acme/app:v1'], { FORCE_COLOR: '1' });
    expect(json.stdout).not.toContain(ESC);
    expect(parseJson<VerifyDoc>(json).ok).toBe(true);
  });

  // no-color.org: only a NO_COLOR with a value disables colour; FORCE_COLOR=0 means no colour.
  it('an empty NO_COLOR does not disable colour', () => {
    expect(run(args, { FORCE_COLOR: '1', NO_COLOR: '' }).stdout).toContain(ESC);
    expect(onTerminal(args, { NO_COLOR: '' })).toContain(ESC);
  });

  it('FORCE_COLOR=0 turns colour off, even on a terminal', () => {
    expect(onTerminal(args, {})).toContain(ESC);
    expect(onTerminal(args, { FORCE_COLOR: '0' })).not.toContain(ESC);
    expect(onTerminal(args, { FORCE_COLOR: '0' })).toMatch(/^OK +acme\/app:v1 /m);
  });

  it('the bin starts with a node shebang', () => {
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
