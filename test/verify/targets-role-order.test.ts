/**
 * The order of a targets role's checks (src/verify/targets-role.ts, notary-rules.md §7.1): for the
 * top-level targets signatures come before structure and the version floor; for a delegation
 * structure and the version floor come before signatures. A file broken twice shows which rule
 * ran first.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error untyped mjs
import { build, ecKey, K, NOW, GUN } from '../../scripts/lib/notary-writer.mjs';
import { verifyRepository } from '../../src/verify/repository.js';

type Model = Record<string, { signed: Record<string, unknown>; signers: unknown[] }>;
const stranger = ecKey('targets-role-order-stranger');

function verdict(edit: (m: Model) => void, versions: Record<string, number> = {}): Record<string, unknown> {
  const files = build({ edit }) as Record<string, Uint8Array>;
  const trustedState = { gun: GUN, root: Buffer.from(files['root'] as Uint8Array).toString('utf8'), versions };
  try {
    verifyRepository({ gun: GUN, source: (r) => files[r], now: new Date(NOW), trustedState });
  } catch (e) {
    return e as Record<string, unknown>;
  }
  throw new Error('expected a refusal');
}

describe('targets role check order', () => {
  it('top-level targets with version 0 and a stranger\'s signature: the signature is reported', () => {
    const e = verdict((m) => {
      m['targets']!.signed['version'] = 0;
      m['targets']!.signers = [stranger];
    });
    expect(e).toMatchObject({ code: 'ERR_THRESHOLD_NOT_MET', role: 'targets' });
  });

  it('top-level targets below its floor and signed by a stranger: the signature is reported', () => {
    const e = verdict((m) => (m['targets']!.signers = [stranger]), { targets: 5 });
    expect(e).toMatchObject({ code: 'ERR_THRESHOLD_NOT_MET', role: 'targets' });
  });

  it('top-level targets with version 0, properly signed: the structure is reported', () => {
    expect(verdict((m) => (m['targets']!.signed['version'] = 0))).toMatchObject({ code: 'ERR_METADATA_INVALID', role: 'targets', check: 'version' });
  });

  it('a delegation with version 0 and a stranger\'s signature: the structure is reported', () => {
    const e = verdict((m) => {
      m['targets/a']!.signed['version'] = 0;
      m['targets/a']!.signers = [stranger];
    });
    expect(e).toMatchObject({ code: 'ERR_METADATA_INVALID', role: 'targets/a', check: 'version' });
  });

  it('a delegation below its floor and signed by a stranger: the rollback is reported', () => {
    const e = verdict((m) => (m['targets/a']!.signers = [stranger]), { 'targets/a': 5 });
    expect(e).toMatchObject({ code: 'ERR_VERSION_ROLLBACK', role: 'targets/a' });
  });

  it('a delegation signed by a stranger, otherwise sound: the signature is reported', () => {
    expect(verdict((m) => (m['targets/a']!.signers = [stranger]))).toMatchObject({ code: 'ERR_THRESHOLD_NOT_MET', role: 'targets/a' });
  });

  it('a delegation signed by its own key and a stranger counts only its own key', () => {
    const files = build({ edit: (m: Model) => (m['targets/a']!.signers = [K.a, stranger]) }) as Record<string, Uint8Array>;
    const repo = verifyRepository({ gun: GUN, source: (r) => files[r], now: new Date(NOW) });
    expect(repo.roles.get('targets/a')!.signedBy).toHaveLength(1);
  });
});

describe('what a loaded targets role reports', () => {
  const load = (edit: (m: Model) => void, hooks: Record<string, unknown> = {}) => {
    const files = build({ edit, ...hooks }) as Record<string, Uint8Array>;
    return verifyRepository({ gun: GUN, source: (r) => files[r], now: new Date(NOW) });
  };

  it('a role with "roles": null and "keys": null, and a role without a delegations field, delegate to nothing', () => {
    const repo = load((m) => {
      m['targets/releases']!.signed['delegations'] = { keys: null, roles: null };
      delete m['targets/c']!.signed['delegations'];
    });
    for (const r of ['targets/releases', 'targets/c']) expect(repo.roles.get(r), r).toMatchObject({ delegations: [], delegationKeys: {} });
  });

  it("a delegation whose bytes do not match the snapshot names the snapshot in its check", () => {
    let e: unknown;
    try {
      load(() => {}, { snapshotMeta: (meta: Record<string, { hashes: Record<string, string>; length: number }>) => ({ ...meta, 'targets/c': { ...meta['targets/c']!, hashes: { sha256: Buffer.alloc(32).toString('base64') } } }) });
    } catch (x) {
      e = x;
    }
    expect(e).toMatchObject({ code: 'ERR_HASH_MISMATCH', role: 'targets/c', check: 'sha256 hash from snapshot' });
  });
});
