/** The trust-dir adapter: layout, symlink containment, size caps before reading (spec §1, §14.8). */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultTrustDir, trustDirSource, verifyTrustDir } from '../../src/trust-dir/reader.js';
import { expectTrustError, scenario } from '../helpers/vectors.js';

const tmp = mkdtempSync(join(tmpdir(), 'trustgate-trustdir-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const basic = scenario('basic');
function copyOf(name: string) {
  const dir = join(tmp, name);
  cpSync(basic.trustDir, dir, { recursive: true });
  return { dir, meta: join(dir, 'tuf', ...basic.gun.split('/'), 'metadata') };
}

describe('defaultTrustDir', () => {
  it('is $DOCKER_CONFIG/trust, else ~/.docker/trust', () => {
    expect(defaultTrustDir({ DOCKER_CONFIG: '/etc/dc' })).toBe('/etc/dc/trust');
    expect(defaultTrustDir({ DOCKER_CONFIG: '' })).toMatch(/\.docker\/trust$/);
    expect(defaultTrustDir({})).toMatch(/\.docker\/trust$/);
  });
});

describe('trustDirSource', () => {
  it('reads a GUN with host:port as nested directories (edge scenario)', () => {
    const edge = scenario('edge');
    expect(verifyTrustDir({ gun: edge.gun, trustDir: edge.trustDir, now: edge.now }).gun).toBe('127.0.0.1:5000/acme/edge');
  });

  it('a missing GUN directory is "no trust data"', () => {
    expectTrustError(() => verifyTrustDir({ gun: 'docker.io/nobody/here', trustDir: basic.trustDir, now: basic.now }), 'ERR_METADATA_NOT_FOUND', 'root');
  });

  it('refuses GUNs that would climb out of tuf/', () => {
    for (const gun of ['../etc', 'docker.io/../../x', '/abs/path', 'a//b', 'a\\b', 'a\0b']) {
      expectTrustError(() => trustDirSource(basic.trustDir, gun), 'ERR_INVALID_ARGUMENT');
    }
  });

  it('refuses role names that are not Notary role names', () => {
    const source = trustDirSource(basic.trustDir, basic.gun);
    for (const role of ['../root', 'targets/../../x', 'targets/UPPER', 'private']) {
      expectTrustError(() => source(role, 1000), 'ERR_ROLE_INVALID');
    }
  });

  it('refuses a metadata file that is a symlink pointing outside the metadata directory', () => {
    const { dir, meta } = copyOf('symlink-file');
    const outside = join(tmp, 'outside-targets.json');
    writeFileSync(outside, readFileSync(join(meta, 'targets.json')));
    unlinkSync(join(meta, 'targets.json'));
    symlinkSync(outside, join(meta, 'targets.json'));
    expectTrustError(() => verifyTrustDir({ gun: basic.gun, trustDir: dir, now: basic.now }), 'ERR_UNSAFE_PATH', 'targets');
  });

  it('refuses a delegation directory that is a symlink out of the metadata directory', () => {
    const deleg = scenario('delegation');
    const dir = join(tmp, 'symlink-dir');
    cpSync(deleg.trustDir, dir, { recursive: true });
    const meta = join(dir, 'tuf', ...deleg.gun.split('/'), 'metadata');
    const outside = join(tmp, 'outside-dir');
    cpSync(join(meta, 'targets'), outside, { recursive: true });
    rmSync(join(meta, 'targets'), { recursive: true });
    symlinkSync(outside, join(meta, 'targets'));
    expectTrustError(() => verifyTrustDir({ gun: deleg.gun, trustDir: dir, now: deleg.now }), 'ERR_UNSAFE_PATH', 'targets/releases');
  });

  it('accepts a symlink that stays inside the metadata directory', () => {
    const { dir, meta } = copyOf('symlink-inside');
    const inside = join(meta, 'real-targets.json');
    writeFileSync(inside, readFileSync(join(meta, 'targets.json')));
    unlinkSync(join(meta, 'targets.json'));
    symlinkSync(inside, join(meta, 'targets.json'));
    expect(verifyTrustDir({ gun: basic.gun, trustDir: dir, now: basic.now }).roles.has('targets')).toBe(true);
  });

  it('refuses a FIFO without blocking on it (found in review: opening it used to hang)', () => {
    const { dir, meta } = copyOf('fifo');
    unlinkSync(join(meta, 'timestamp.json'));
    execFileSync('mkfifo', [join(meta, 'timestamp.json')]);
    expectTrustError(() => verifyTrustDir({ gun: basic.gun, trustDir: dir, now: basic.now }), 'ERR_UNSAFE_PATH', 'timestamp');
  });

  it('refuses a directory where a file should be', () => {
    const { dir, meta } = copyOf('dir-not-file');
    unlinkSync(join(meta, 'timestamp.json'));
    mkdirSync(join(meta, 'timestamp.json'));
    expectTrustError(() => verifyTrustDir({ gun: basic.gun, trustDir: dir, now: basic.now }), 'ERR_UNSAFE_PATH', 'timestamp');
  });

  it('refuses an oversized file from its size, before reading it (a 2 GiB sparse timestamp)', () => {
    const { dir, meta } = copyOf('huge');
    const f = join(meta, 'timestamp.json');
    unlinkSync(f);
    writeFileSync(f, '');
    // A sparse file: the size is 2 GiB but nothing is allocated; reading it would take seconds.
    truncateSync(f, 2 ** 31);
    const err = expectTrustError(() => verifyTrustDir({ gun: basic.gun, trustDir: dir, now: basic.now }), 'ERR_METADATA_TOO_LARGE', 'timestamp');
    expect(err.message).toMatch(/2147483648 bytes/);
  });
});
