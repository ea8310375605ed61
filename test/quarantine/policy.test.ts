import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../src/quarantine/index.js';
import { decideQuorum } from '../../src/quarantine/quorum.js';
import { evaluateFindings, severityRank } from '../../src/quarantine/findings-policy.js';
import type { Waiver } from '../../src/quarantine/index.js';

const R = 'team/app';
const DG = `sha256:${'a'.repeat(64)}`;
const waiver = (over: Partial<Waiver> = {}): Waiver => ({
  id: 'w', findingId: 'CVE-1', scope: { kind: 'registry' }, reason: 'r', author: 'a', createdAt: 0, expiresAt: 1000, ...over,
});

describe('severity ranking', () => {
  it('orders ACR severities and ranks unknown strings above Critical (Q4)', () => {
    expect(['None', 'Low', 'Medium', 'High', 'Critical'].map(severityRank)).toEqual([0, 1, 2, 3, 4]);
    expect(severityRank('Unknown')).toBeGreaterThan(severityRank('Critical'));
    expect(severityRank('critical')).toBeGreaterThan(severityRank('Critical'));
    expect(severityRank('')).toBeGreaterThan(severityRank('Critical'));
  });
});

describe('evaluateFindings', () => {
  const policy = { threshold: 'High' as const, fixableOnly: false, waivers: [] };
  it('blocks at or above the threshold, and unknown severities', () => {
    expect(evaluateFindings([{ id: 'a', severity: 'Medium' }], policy, R, DG, 0).outcome).toBe('pass');
    expect(evaluateFindings([{ id: 'a', severity: 'High' }], policy, R, DG, 0).outcome).toBe('fail');
    expect(evaluateFindings([{ id: 'a', severity: 'Negligible?' }], policy, R, DG, 0).outcome).toBe('fail');
  });
  it('fixable-only ignores unfixable findings but treats unknown fixability as fixable', () => {
    const p = { ...policy, fixableOnly: true };
    expect(evaluateFindings([{ id: 'a', severity: 'Critical', fixable: false }], p, R, DG, 0).outcome).toBe('pass');
    expect(evaluateFindings([{ id: 'a', severity: 'Critical', fixable: true }], p, R, DG, 0).outcome).toBe('fail');
    expect(evaluateFindings([{ id: 'a', severity: 'Critical' }], p, R, DG, 0).outcome).toBe('fail');
  });
  it('applies waivers by scope and only before expiry, reporting when the pass lapses', () => {
    const f = [{ id: 'CVE-1', severity: 'Critical' }];
    const at = (w: Waiver, now: number) => evaluateFindings(f, { ...policy, waivers: [w] }, R, DG, now);
    expect(at(waiver(), 999)).toMatchObject({ outcome: 'pass', validUntil: 1000 });
    expect(at(waiver(), 1000).outcome).toBe('fail');
    expect(at(waiver({ scope: { kind: 'repository', repository: R } }), 1).outcome).toBe('pass');
    expect(at(waiver({ scope: { kind: 'repository', repository: 'other' } }), 1).outcome).toBe('fail');
    expect(at(waiver({ scope: { kind: 'digest', repository: R, digest: DG } }), 1).outcome).toBe('pass');
    expect(at(waiver({ scope: { kind: 'digest', repository: R, digest: `sha256:${'b'.repeat(64)}` } }), 1).outcome).toBe('fail');
    expect(at(waiver({ findingId: 'CVE-2' }), 1).outcome).toBe('fail');
  });
});

describe('decideQuorum', () => {
  const all = parseConfig({ scanners: ['a', 'b', 'c'] });
  const k2 = parseConfig({ scanners: ['a', 'b', 'c'], quorum: { mode: 'k-of-n', k: 2 }, anyFailFails: false });
  const v = (scannerId: string, outcome: 'pass' | 'fail' | 'unresolved') => ({ scannerId, outcome });
  it('all-required: pass only when everyone passed; any fail fails', () => {
    expect(decideQuorum([v('a', 'pass'), v('b', 'pass')], all)).toBe('pending');
    expect(decideQuorum([v('a', 'pass'), v('b', 'pass'), v('c', 'pass')], all)).toBe('pass');
    expect(decideQuorum([v('a', 'fail')], all)).toBe('fail');
    expect(decideQuorum([v('a', 'unresolved'), v('b', 'pass')], all)).toBe('pending');
    expect(decideQuorum([v('a', 'unresolved'), v('b', 'pass'), v('c', 'pass')], all)).toBe('unresolved');
  });
  it('k of n without anyFail: k passes suffice; impossible quorum fails or is unresolved', () => {
    expect(decideQuorum([v('a', 'pass'), v('b', 'pass')], k2)).toBe('pass');
    expect(decideQuorum([v('a', 'fail'), v('b', 'pass')], k2)).toBe('pending');
    expect(decideQuorum([v('a', 'fail'), v('b', 'fail')], k2)).toBe('fail');
    expect(decideQuorum([v('a', 'unresolved'), v('b', 'unresolved')], k2)).toBe('pending');
    expect(decideQuorum([v('a', 'unresolved'), v('b', 'unresolved'), v('c', 'pass')], k2)).toBe('unresolved');
  });
  it('ignores verdicts of unregistered scanners', () => {
    expect(decideQuorum([v('zzz', 'fail')], all)).toBe('pending');
  });
});

describe('parseConfig', () => {
  it('rejects invalid configurations with ERR_INVALID_ARGUMENT', () => {
    for (const bad of [{}, { scanners: [] }, { scanners: ['a', 'a'] }, { scanners: ['a'], quorum: { mode: 'k-of-n', k: 2 } }, { scanners: ['a'], bogus: 1 },
      { scanners: ['a'], waivers: [waiver({ expiresAt: 0 })] }, { scanners: ['a'], maxWaiverTtlMs: 10, waivers: [waiver()] }]) {
      expect(() => parseConfig(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });
});
