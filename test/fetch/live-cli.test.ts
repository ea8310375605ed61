/**
 * The built CLI's `fetch`, `verify --online` and `mirror` against a real notary-server on
 * 127.0.0.1, and an offline `verify --trust-dir` of the mirror afterwards. Exit codes: 0 fetched
 * and verified, 1 trust or fetch failure, 2 usage.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onTerminal, parseJson, run, type VerifyDoc } from '../cli/helpers.js';
import { notaryListOffline, notaryMissing, Publisher, runLive, snapshotTree, startNotaryServer, tempDir, type NotaryServer } from './helpers/notary.js';

const GUN = 'registry.test:5000/cli/app';

interface FetchDoc {
  ok: boolean;
  results: ({ ok: true; gun: string; changed: boolean; rootRotated: boolean; roles: { role: string; before?: number; after: number; from: string }[] } | { ok: false; error: { code: string } })[];
}

describe.skipIf(!runLive)(`trustgate fetch / verify --online / mirror${notaryMissing ? ` (skipped: ${notaryMissing})` : ''}`, () => {
  const tmp = tempDir('trustgate-fetch-cli-');
  let server: NotaryServer;
  let digest: string;
  const trustDir = join(tmp.dir, 'trust');
  const stateDir = join(tmp.dir, 'state');
  const common = () => ['--server', server.url, '--trust-dir', trustDir, '--state-dir', stateDir];

  beforeAll(async () => {
    server = await startNotaryServer(join(tmp.dir, 'server'));
    const pub = new Publisher(tmp.dir, server.url);
    pub.run(['init', GUN]);
    const out = pub.run(['add', GUN, 'v1', pub.file('v1', 'cli release\n')]);
    expect(out).toMatch(/staged/);
    pub.run(['publish', GUN]);
    const { createHash } = await import('node:crypto');
    digest = `sha256:${createHash('sha256').update('cli release\n').digest('hex')}`;
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  it('fetch --json updates the cache and says what changed; a second run changes nothing', () => {
    const first = run(['fetch', `${GUN}:v1`, '--json', ...common()]);
    expect(first.code, first.stderr).toBe(0);
    const doc = parseJson<FetchDoc>(first);
    const r = doc.results[0];
    expect(doc.ok).toBe(true);
    if (!r?.ok) throw new Error('fetch failed');
    expect(r.changed).toBe(true);
    expect(r.roles.map((x) => [x.role, x.before, x.from])).toEqual([
      ['root', undefined, 'network'],
      ['timestamp', undefined, 'network'],
      ['snapshot', undefined, 'network'],
      ['targets', undefined, 'network'],
    ]);
    const again = run(['fetch', `${GUN}:v1`, ...common()]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/up to date/);
  });

  it('DOCKER_CONTENT_TRUST_SERVER picks the server when --server is not given, as docker reads it', () => {
    const r = run(['fetch', '--json', `${GUN}:v1`, '--trust-dir', trustDir, '--state-dir', stateDir], { DOCKER_CONTENT_TRUST_SERVER: server.url });
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson<FetchDoc>(r).results[0]).toMatchObject({ ok: true, server: `${server.url}/` });
  });

  it('the config file picks the server per registry: --config, TRUSTGATE_CONFIG, $XDG_CONFIG_HOME; --server and DOCKER_CONTENT_TRUST_SERVER win', () => {
    const cfg = (name: string, registry: string, url: string) => {
      const file = join(tmp.dir, name);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, JSON.stringify({ registries: { [registry]: { server: url } } }));
      return file;
    };
    const good = cfg('config-good.json', 'REGISTRY.test:5000', server.url);
    const dead = cfg('config-dead.json', 'registry.test:5000', 'http://127.0.0.1:1');
    const dirs = ['--trust-dir', trustDir, '--state-dir', stateDir, '--timeout', '2s'];
    const server0 = (r: ReturnType<typeof run>) => (parseJson<FetchDoc>(r).results[0] as { server?: string; error?: { code: string } });
    const viaFlag = run(['fetch', '--json', `${GUN}:v1`, '--config', good, ...dirs]);
    expect(viaFlag.code, viaFlag.stderr).toBe(0);
    expect(server0(viaFlag).server).toBe(`${server.url}/`);
    const viaEnv = run(['fetch', '--json', `${GUN}:v1`, ...dirs], { TRUSTGATE_CONFIG: good });
    expect([viaEnv.code, server0(viaEnv).server]).toEqual([0, `${server.url}/`]);
    const xdg = join(tmp.dir, 'xdg');
    cfg(join('xdg', 'trustgate', 'config.json'), 'registry.test:5000', server.url);
    const viaDefault = run(['fetch', '--json', `${GUN}:v1`, ...dirs], { XDG_CONFIG_HOME: xdg });
    expect([viaDefault.code, server0(viaDefault).server]).toEqual([0, `${server.url}/`]);
    // The flag beats the config file, and so does DOCKER_CONTENT_TRUST_SERVER.
    const flagWins = run(['fetch', '--json', `${GUN}:v1`, '--config', dead, '--server', server.url, ...dirs]);
    expect([flagWins.code, server0(flagWins).server]).toEqual([0, `${server.url}/`]);
    const envWins = run(['fetch', '--json', `${GUN}:v1`, '--config', dead, ...dirs], { DOCKER_CONTENT_TRUST_SERVER: server.url });
    expect([envWins.code, server0(envWins).server]).toEqual([0, `${server.url}/`]);
    // The config's dead server is really used when nothing overrides it.
    const deadUsed = run(['fetch', '--json', `${GUN}:v1`, '--config', dead, ...dirs]);
    expect([deadUsed.code, server0(deadUsed).error?.code]).toEqual([1, 'ERR_FETCH_UNREACHABLE']);
    // verify --online and mirror (without --from) take it too.
    const v = run(['verify', '--online', '--json', `${GUN}:v1`, '--config', good, ...dirs]);
    expect(v.code, v.stderr).toBe(0);
    const to = join(tmp.dir, 'mirror-by-config');
    const m = run(['mirror', '--json', '--to', to, '--state-dir', join(tmp.dir, 'mirror-by-config-state'), GUN], { TRUSTGATE_CONFIG: good });
    expect([m.code, server0(m).server], m.stderr).toEqual([0, `${server.url}/`]);
    expect(run(['verify', '--json', '--trust-dir', to, `${GUN}:v1`]).code).toBe(0);
  });

  it('a named config file that is missing or invalid is a usage error (exit 2) naming the file and field; a missing default is fine', () => {
    const bad = join(tmp.dir, 'config-bad.json');
    writeFileSync(bad, JSON.stringify({ registries: { 'registry.test:5000': { server: 'notary.example.com' } } }));
    const dirs = ['--state-dir', stateDir, '--trust-dir', trustDir];
    for (const cmd of [['fetch', `${GUN}:v1`, ...dirs], ['verify', '--online', `${GUN}:v1`, ...dirs], ['mirror', '--to', join(tmp.dir, 'm2'), GUN]]) {
      const missing = run([...cmd, '--config', join(tmp.dir, 'no-such.json')]);
      expect(missing.code, cmd.join(' ') + missing.stderr).toBe(2);
      expect(missing.stdout).toBe('');
      expect(missing.stderr).toMatch(/config file .*no-such\.json: cannot read it/);
      const invalid = run(cmd, { TRUSTGATE_CONFIG: bad });
      expect(invalid.code, cmd.join(' ') + invalid.stderr).toBe(2);
      expect(invalid.stderr).toContain(`config file ${bad}: registries["registry.test:5000"].server: must be a plain http(s)`);
    }
    const none = run(['fetch', `${GUN}:v1`, ...common()], { XDG_CONFIG_HOME: join(tmp.dir, 'no-xdg-here') });
    expect(none.code, none.stderr).toBe(0);
    expect(run(['verify', `${GUN}:v1`, '--config', bad]).code).toBe(2); // needs --online
  });

  it('verify --online fetches, then verifies the tag', () => {
    const r = run(['verify', '--online', '--json', `${GUN}:v1`, ...common()]);
    expect(r.code, r.stderr).toBe(0);
    const doc = parseJson<VerifyDoc>(r);
    expect(doc.results[0]).toMatchObject({ ok: true, digest, role: 'targets' });
  });

  it('verify --online --pin-root holds on every run, not only the first fetch', () => {
    const bad = run(['verify', '--online', '--json', `${GUN}:v1`, '--pin-root', 'a'.repeat(64), ...common()]);
    expect(bad.code, bad.stderr).toBe(1);
    expect(parseJson<VerifyDoc>(bad).results[0]).toMatchObject({ ok: false, error: { code: 'ERR_ROOT_PIN_MISMATCH' } });
  });

  it('verify --online against a dead server fails with exit 1 and ERR_FETCH_UNREACHABLE, cache untouched', () => {
    const before = snapshotTree(trustDir);
    const r = run(['verify', '--online', '--json', `${GUN}:v1`, '--server', 'http://127.0.0.1:1', '--trust-dir', trustDir, '--state-dir', stateDir, '--timeout', '2s']);
    expect(r.code, r.stderr).toBe(1);
    expect(parseJson<VerifyDoc>(r).results[0]).toMatchObject({ ok: false, error: { code: 'ERR_FETCH_UNREACHABLE' } });
    expect(snapshotTree(trustDir)).toEqual(before);
  });

  it('verify --online --allow-stale with the server down: verified from the cache, and stderr says STALE', () => {
    const r = run(['verify', '--online', `${GUN}:v1`, '--server', 'http://127.0.0.1:1', '--trust-dir', trustDir, '--state-dir', stateDir, '--allow-stale', '1h']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/STALE: the server failed \(ERR_FETCH_UNREACHABLE/);
  });

  it('on a terminal a progress line shows the files as they arrive and is cleared; --json and pipes stay quiet', () => {
    const args = ['fetch', `${GUN}:v1`, '--server', server.url, '--trust-dir', join(tmp.dir, 'tty-trust'), '--state-dir', join(tmp.dir, 'tty-state')];
    const screen = onTerminal(args, {});
    expect(screen).toMatch(new RegExp(`\\r\\x1b\\[Kfetching ${GUN.replace(/[.]/g, '\\.')}: \\d+ files, \\d+ KiB \\(timestamp\\)`));
    expect(screen).toMatch(/\r\x1b\[K(?!fetching)/); // cleared before the result line
    expect(onTerminal([...args, '--json'], {})).not.toContain('fetching');
    expect(run(args).stderr).not.toContain('fetching');
  });

  it('usage errors exit 2', () => {
    expect(run(['fetch']).code).toBe(2);
    expect(run(['fetch', 'x', '--timeout', 'soon']).code).toBe(2);
    expect(run(['verify', `${GUN}:v1`, '--server', 'http://127.0.0.1:1']).code).toBe(2); // needs --online
    expect(run(['mirror', GUN, '--from', server.url]).code).toBe(2); // needs --to
  });

  it('mirror --from --to writes a trust dir that verify --trust-dir and notary read offline', () => {
    const to = join(tmp.dir, 'mirror');
    const m = run(['mirror', '--from', server.url, '--to', to, '--state-dir', join(tmp.dir, 'mirror-state'), GUN]);
    expect(m.code, m.stderr + m.stdout).toBe(0);
    const v = run(['verify', '--json', '--trust-dir', to, `${GUN}:v1`]);
    expect(v.code, v.stderr).toBe(0);
    expect(parseJson<VerifyDoc>(v).results[0]).toMatchObject({ ok: true, digest });
    const n = notaryListOffline(to, GUN, join(tmp.dir, 'offline-home'));
    expect(n.exit, n.out).toBe(0);
    expect(n.rows.map((x) => [x.name, `sha256:${x.sha256}`])).toEqual([['v1', digest]]);
  });
});
