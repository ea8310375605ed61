/**
 * Notary's isValidTargetsStructure as trustgate applies it (src/verify/targets-structure.ts,
 * notary-rules.md §2.4, §7.8.1): each rule at its boundary, with the code, role, check and the
 * offending value a caller reads.
 */
import { describe, expect, it } from 'vitest';
import { TrustError } from '../../src/errors.js';
import type { TargetsSigned } from '../../src/tuf/schema.js';
import { checkTargetsStructure } from '../../src/verify/targets-structure.js';

const KEY = { keytype: 'ecdsa', keyval: { private: null, public: 'AAAA' } };
const entry = (name: string, extra: Record<string, unknown> = {}) => ({ name, keyids: ['k1'], threshold: 1, paths: [''], ...extra });
const signed = (delegations: unknown, extra: Record<string, unknown> = {}) =>
  ({ _type: 'Targets', version: 1, expires: '2099-01-01T00:00:00Z', targets: {}, delegations, ...extra }) as unknown as TargetsSigned;
const keys = { k1: KEY, k2: KEY };

function refusal(s: TargetsSigned, role: string): TrustError {
  try {
    checkTargetsStructure(s, role);
  } catch (e) {
    if (e instanceof TrustError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('targets structure', () => {
  it('passes a role without delegations, with null roles, with none, and with valid direct children', () => {
    for (const d of [undefined, null, { keys: null, roles: null }, { keys: {}, roles: [] }, { keys, roles: [entry('targets/a'), entry('targets/b', { keyids: ['k1', 'k2'], threshold: 2 })] }]) {
      expect(() => checkTargetsStructure(signed(d), 'targets'), JSON.stringify(d)).not.toThrow();
    }
    expect(() => checkTargetsStructure(signed({ keys, roles: [entry('targets/a/b')] }), 'targets/a')).not.toThrow();
    expect(() => checkTargetsStructure(signed({ keys: null, roles: [entry('targets/a', { keyids: [] })] }), 'targets')).not.toThrow();
  });

  it('_type and version come first', () => {
    expect(refusal(signed(undefined, { _type: 'Root' }), 'targets')).toMatchObject({ code: 'ERR_METADATA_INVALID', role: 'targets', check: '_type' });
    expect(refusal(signed(undefined, { version: 0 }), 'targets/a')).toMatchObject({ code: 'ERR_METADATA_INVALID', role: 'targets/a', check: 'version' });
  });

  it('a delegation that is not a valid direct child of the role is ERR_ROLE_INVALID naming it', () => {
    for (const [role, name] of [['targets', 'targets/a/b'], ['targets/a', 'targets/b'], ['targets/a', 'targets/ab/c'], ['targets', 'targets/a/..'], ['targets', 'targets']] as const) {
      const e = refusal(signed({ keys, roles: [entry(name)] }), role);
      expect(e, `${role} -> ${name}`).toMatchObject({ code: 'ERR_ROLE_INVALID', role, check: 'delegation name', actual: name });
      expect(e.message).toBe(`${role} delegates to ${JSON.stringify(name)}, which is not a valid direct child role name of ${role}`);
    }
  });

  it('threshold 0 (and below) is refused, 1 passes', () => {
    for (const t of [0, -1]) {
      const e = refusal(signed({ keys, roles: [entry('targets/a', { threshold: t })] }), 'targets');
      expect(e).toMatchObject({ code: 'ERR_METADATA_INVALID', role: 'targets', check: 'delegation threshold', actual: t });
      expect(e.message).toBe(`targets: delegation targets/a has threshold ${t}`);
    }
  });

  it('a key ID missing from delegations.keys (or inherited, or keys null) is refused naming it', () => {
    for (const [ks, id] of [[{ k1: KEY }, 'k2'], [{ k1: KEY }, 'toString'], [{ k1: KEY }, '__proto__'], [null, 'k1']] as const) {
      const e = refusal(signed({ keys: ks, roles: [entry('targets/a', { keyids: ['k1', id] })] }), 'targets');
      expect(e, id).toMatchObject({ code: 'ERR_METADATA_INVALID', role: 'targets', check: 'delegation keys', actual: ks === null ? 'k1' : id });
      expect(e.message).toBe(`targets: delegation targets/a lists key ${ks === null ? 'k1' : id}, which is not in delegations.keys`);
    }
  });

  it('a name listed twice is refused, even with equal entries; distinct names are not', () => {
    const e = refusal(signed({ keys, roles: [entry('targets/a'), entry('targets/b'), entry('targets/a')] }), 'targets');
    expect(e).toMatchObject({ code: 'ERR_ROLE_INVALID', role: 'targets', check: 'delegation name', actual: 'targets/a' });
    expect(e.message).toBe('targets lists delegation "targets/a" more than once');
  });

  it('every entry is checked, not only the first', () => {
    expect(refusal(signed({ keys, roles: [entry('targets/a'), entry('targets/b', { threshold: 0 })] }), 'targets')).toMatchObject({ check: 'delegation threshold', actual: 0 });
    expect(refusal(signed({ keys, roles: [entry('targets/a'), entry('targets/b', { keyids: ['k1', 'k9'] })] }), 'targets')).toMatchObject({ check: 'delegation keys', actual: 'k9' });
  });
});
