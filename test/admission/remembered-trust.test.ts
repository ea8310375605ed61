/**
 * Trust that is remembered (issue 16 item 2): verified once, re-verified when the files change or
 * expire, and anchored by the trusted-state record so that a rewrite to an older validly signed
 * copy is a rollback. Real Notary vectors copied to temp dirs; the record is written by the fetch
 * module's own writer.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rememberedTrustSource } from '../../src/admission/index.js';
import { writeTrustedState } from '../../src/fetch/state.js';
import { verifyTrustDir } from '../../src/trust-dir/reader.js';
import { HUB, NOW, VECTORS } from './helpers.js';
import { run as runCli } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'trustgate-remembered-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (from: string) => {
  const dir = join(tmp, `t${n++}`);
  cpSync(from, dir, { recursive: true });
  return dir;
};

const ROT = join(VECTORS, 'root-rotation');
const ROT_GUN = 'docker.io/acme/rootrot';
const metadataOf = (trustDir: string, gun: string) => join(trustDir, 'tuf', ...gun.split('/'), 'metadata');
/** Replaces the GUN's metadata with the older, validly signed copy (root v1). */
const rollBack = (trustDir: string) => {
  rmSync(metadataOf(trustDir, ROT_GUN), { recursive: true });
  cpSync(metadataOf(join(ROT, 'trust-root-v1'), ROT_GUN), metadataOf(trustDir, ROT_GUN), { recursive: true });
};

/**
 * A root-v3 trust dir whose trusted-state record (written by the fetch module's writer) is taken
 * at v3, then rolled back to the older validly signed copy.
 */
function recordedThenRolledBack(stateName: string): { dir: string; stateDir: string } {
  const dir = fresh(join(ROT, 'trust'));
  const stateDir = join(tmp, stateName);
  const v3 = verifyTrustDir({ gun: ROT_GUN, trustDir: dir, now: NOW });
  writeTrustedState(stateDir, { format: 1, gun: ROT_GUN, trustedState: v3.trustedState, timestampExpires: v3.timestamp.expires, fetchedAt: NOW.toISOString(), server: 'https://notary.test' });
  rollBack(dir);
  return { dir, stateDir };
}

describe('rememberedTrustSource', () => {
  it('verifies a repository once and answers later requests from memory', () => {
    const trust = rememberedTrustSource({ trustDir: fresh(HUB.trustDir), stateDir: join(tmp, 'no-state') });
    const first = trust.verify({ gun: HUB.gun, now: NOW });
    for (let i = 0; i < 5; i++) expect(trust.verify({ gun: HUB.gun, now: new Date(NOW.getTime() + i * 1000) })).toBe(first);
    expect(trust.stats).toEqual({ hits: 5, verifications: 1 });
  });

  it('re-verifies when a metadata file is rewritten, even with the same bytes and mtime, once the recheck interval passed', () => {
    const dir = fresh(HUB.trustDir);
    let tick = 0;
    const trust = rememberedTrustSource({ trustDir: dir, stateDir: join(tmp, 'no-state'), recheckMs: 1000, ticks: () => tick });
    trust.verify({ gun: HUB.gun, now: NOW });
    const ts = join(metadataOf(dir, HUB.gun), 'timestamp.json');
    const bytes = readFileSync(ts);
    writeFileSync(ts, bytes);
    utimesSync(ts, new Date(0), new Date(0));
    tick = 999;
    trust.verify({ gun: HUB.gun, now: NOW });
    expect(trust.stats.verifications).toBe(1);
    tick = 1000;
    trust.verify({ gun: HUB.gun, now: NOW });
    expect(trust.stats.verifications).toBe(2);
    // A tampered file is not served from memory.
    writeFileSync(ts, Buffer.concat([bytes.subarray(0, bytes.length - 2), Buffer.from(' }')]));
    tick = 2000;
    expect(() => trust.verify({ gun: HUB.gun, now: NOW })).toThrow(expect.objectContaining({ code: 'ERR_METADATA_MALFORMED', role: 'timestamp' }));
  });

  it('re-verifies once the earliest expiry passes, and then the expiry is a deny', () => {
    const trust = rememberedTrustSource({ trustDir: fresh(HUB.trustDir), stateDir: join(tmp, 'no-state') });
    const repo = trust.verify({ gun: HUB.gun, now: NOW });
    const after = new Date(repo.timestamp.expiresAt.getTime() + 1);
    expect(() => trust.verify({ gun: HUB.gun, now: after })).toThrow(expect.objectContaining({ code: 'ERR_METADATA_EXPIRED' }));
    expect(trust.stats.verifications).toBe(2);
  });

  it('a trust dir rewritten to an older validly signed copy is a rollback for the running process', () => {
    const dir = fresh(join(ROT, 'trust'));
    const trust = rememberedTrustSource({ trustDir: dir, stateDir: join(tmp, 'no-state'), recheckMs: 0 });
    expect(trust.verify({ gun: ROT_GUN, now: NOW }).root.version).toBe(3);
    rollBack(dir);
    expect(() => trust.verify({ gun: ROT_GUN, now: NOW })).toThrow(expect.objectContaining({ code: 'ERR_VERSION_ROLLBACK' }));
  });

  it('and for a fresh process, through the trusted-state record; without a record it would be trusted on first use', () => {
    const { dir, stateDir } = recordedThenRolledBack('state');
    expect(rememberedTrustSource({ trustDir: dir, stateDir: join(tmp, 'no-state') }).verify({ gun: ROT_GUN, now: NOW }).root.version).toBe(1);
    expect(() => rememberedTrustSource({ trustDir: dir, stateDir }).verify({ gun: ROT_GUN, now: NOW })).toThrow(expect.objectContaining({ code: 'ERR_VERSION_ROLLBACK' }));
  });

  it('trustgate check --state-dir refuses the rolled-back copy', () => {
    const { dir, stateDir } = recordedThenRolledBack('state-cli');
    const policy = join(tmp, 'policy.json');
    writeFileSync(policy, JSON.stringify({ rules: [], default: {} }));
    const args = ['check', `${ROT_GUN}:v1`, '--policy', policy, '--trust-dir', dir, '--now', NOW.toISOString(), '--json'];
    expect(runCli([...args, '--state-dir', join(tmp, 'no-state')]).code).toBe(0);
    const denied = runCli([...args, '--state-dir', stateDir]);
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout)).toMatchObject({ allowed: false, code: 'ERR_VERSION_ROLLBACK' });
  });
});

describe('GUNs trustgate fetch cannot fetch', () => {
  it('have no record: an IPv6 host is looked up in the trust dir, not refused as an argument', () => {
    const trust = rememberedTrustSource({ trustDir: fresh(HUB.trustDir), stateDir: join(tmp, 'state') });
    expect(() => trust.verify({ gun: '[::1]:5000/app', now: NOW })).toThrow(expect.objectContaining({ code: 'ERR_METADATA_NOT_FOUND' }));
  });
});

describe('trustgate verify --state-dir (offline)', () => {
  it('refuses a trust dir rolled back below the record, and accepts it without one', () => {
    const { dir, stateDir } = recordedThenRolledBack('state-verify');
    const args = ['verify', `${ROT_GUN}:v1`, '--trust-dir', dir, '--now', NOW.toISOString(), '--json'];
    expect(runCli([...args, '--state-dir', join(tmp, 'no-state')]).code).toBe(0);
    const r = runCli([...args, '--state-dir', stateDir]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, results: [{ error: { code: 'ERR_VERSION_ROLLBACK' } }] });
  });
});
