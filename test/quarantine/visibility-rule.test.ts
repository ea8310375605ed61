/**
 * The visibility rule on its own (src/quarantine/visibility-rule.ts, quarantine.md §5 `visible(d)`,
 * Q11, Q18, Q23), on hand-built records: each boundary — expiry instants, deleted and failed
 * records, children and subjects, cycles, the disabled policy — where a change would serve a
 * digest that must stay hidden.
 */
import { describe, expect, it } from 'vitest';
import { isRecordVisible, isVisible, visibleDigests } from '../../src/quarantine/visibility-rule.js';
import type { DigestRecord, RepositoryState } from '../../src/quarantine/types.js';

const d = (n: number) => `sha256:${String(n).padStart(64, '0')}`;
const T = 1_800_000_000_000;

function rec(n: number, over: Record<string, unknown> = {}): DigestRecord {
  return {
    repository: 'team/app',
    digest: d(n),
    state: 'Passed',
    version: 1,
    sequence: n,
    generation: 1,
    scanOpen: false,
    retries: 0,
    verdicts: [],
    findings: [],
    responses: [],
    kind: 'image',
    children: [],
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 1,
    pusher: 'ci',
    pushers: ['ci'],
    pushedAt: T - 1000,
    deleted: false,
    policyVersion: '1',
    ...over,
  } as unknown as DigestRecord;
}

const repo = (...records: DigestRecord[]): RepositoryState => ({ repository: 'team/app', records: new Map(records.map((r) => [r.digest, r])), tags: new Map() });

describe('isRecordVisible', () => {
  it('Passed: visible, until validUntil (exclusive); deleted never', () => {
    expect(isRecordVisible(rec(1), T)).toBe(true);
    expect(isRecordVisible(rec(1, { validUntil: T + 1 }), T)).toBe(true);
    expect(isRecordVisible(rec(1, { validUntil: T }), T)).toBe(false);
    expect(isRecordVisible(rec(1, { validUntil: T - 1 }), T)).toBe(false);
    expect(isRecordVisible(rec(1, { deleted: true }), T)).toBe(false);
  });

  it('Released: visible before its expiry only (Q18: now < expiresAt); no release data, not visible', () => {
    const released = (expiresAt: number) => rec(2, { state: 'Released', release: { reason: 'INC-1', expiresAt, by: 'sec', at: T - 10 } });
    expect(isRecordVisible(released(T + 1), T)).toBe(true);
    expect(isRecordVisible(released(T), T)).toBe(false);
    expect(isRecordVisible(released(T - 1), T)).toBe(false);
    expect(isRecordVisible(rec(2, { state: 'Released' }), T)).toBe(false);
    expect(isRecordVisible(rec(2, { state: 'Released', deleted: true, release: { reason: 'x', expiresAt: T + 5, by: 'sec', at: T } }), T)).toBe(false);
  });

  it('every other state is hidden, whatever the dates', () => {
    for (const state of ['Quarantined', 'Failed', 'Unresolved', 'Revoked', 'Pending']) {
      expect(isRecordVisible(rec(3, { state, validUntil: T + 1000, release: { reason: 'x', expiresAt: T + 1000, by: 's', at: T } }), T), state).toBe(false);
    }
  });
});

describe('isVisible: children, subjects, cycles, the disabled policy', () => {
  it('an index is visible only when it and every child are; a missing child hides it', () => {
    const child = rec(11);
    const hidden = rec(12, { state: 'Quarantined' });
    expect(isVisible(repo(rec(10, { kind: 'index', children: [d(11)] }), child), d(10), T)).toBe(true);
    expect(isVisible(repo(rec(10, { kind: 'index', children: [d(11), d(12)] }), child, hidden), d(10), T)).toBe(false);
    expect(isVisible(repo(rec(10, { kind: 'index', children: [d(13)] })), d(10), T)).toBe(false);
    // Grandchildren count too.
    expect(isVisible(repo(rec(10, { children: [d(11)] }), rec(11, { children: [d(12)] }), hidden), d(10), T)).toBe(false);
    expect(isVisible(repo(rec(10, { children: [d(11)] }), rec(11, { children: [d(12)] }), rec(12)), d(10), T)).toBe(true);
  });

  it('a referrer inherits its subject: visible with a visible subject even unscanned, hidden when failed, deleted or the subject is hidden', () => {
    const subject = rec(20);
    const sig = (over: Record<string, unknown> = {}) => rec(21, { state: 'Quarantined', subject: d(20), ...over });
    expect(isVisible(repo(subject, sig()), d(21), T)).toBe(true);
    expect(isVisible(repo(subject, sig({ state: 'Failed' })), d(21), T)).toBe(false);
    expect(isVisible(repo(subject, sig({ deleted: true })), d(21), T)).toBe(false);
    expect(isVisible(repo(rec(20, { state: 'Quarantined' }), sig()), d(21), T)).toBe(false);
    expect(isVisible(repo(sig()), d(21), T)).toBe(false);
    // A referrer of a referrer of a hidden subject stays hidden.
    expect(isVisible(repo(rec(20, { state: 'Quarantined' }), sig(), rec(22, { state: 'Quarantined', subject: d(21) })), d(22), T)).toBe(false);
  });

  it('a cycle (an index that is its own descendant, a subject loop) is not visible, and terminates', () => {
    expect(isVisible(repo(rec(30, { children: [d(31)] }), rec(31, { children: [d(30)] })), d(30), T)).toBe(false);
    expect(isVisible(repo(rec(32, { subject: d(33) }), rec(33, { subject: d(32) })), d(32), T)).toBe(false);
    // The same child twice is no cycle: the path is unwound after each visit.
    expect(isVisible(repo(rec(34, { children: [d(35), d(35)] }), rec(35)), d(34), T)).toBe(true);
    expect(isVisible(repo(rec(36, { children: [d(37), d(38)] }), rec(37, { children: [d(38)] }), rec(38)), d(36), T)).toBe(true);
  });

  it('an unknown digest is not visible; a Passed image with no children or subject is', () => {
    expect(isVisible(repo(), d(40), T)).toBe(false);
    expect(isVisible(repo(rec(41)), d(41), T)).toBe(true);
    expect(isVisible(repo(rec(41, { validUntil: T })), d(41), T)).toBe(false);
  });

  it("disabled: every manifest that exists and is not deleted, children's state aside (Q23)", () => {
    const s = repo(rec(50, { state: 'Quarantined', children: [d(51)] }), rec(51, { state: 'Failed' }), rec(52, { deleted: true }));
    expect(isVisible(s, d(50), T, 'disabled')).toBe(true);
    expect(isVisible(s, d(51), T, 'disabled')).toBe(true);
    expect(isVisible(s, d(52), T, 'disabled')).toBe(false);
    expect(isVisible(s, d(53), T, 'disabled')).toBe(false);
    expect(isVisible(s, d(50), T)).toBe(false);
    expect(isVisible(s, d(50), T, 'enabled')).toBe(false);
  });

  it('visibleDigests: exactly the visible ones, under either policy', () => {
    const s = repo(rec(60), rec(61, { state: 'Quarantined' }), rec(62, { children: [d(61)] }), rec(63, { deleted: true }));
    expect([...visibleDigests(s, T)]).toEqual([d(60)]);
    expect([...visibleDigests(s, T, 'disabled')].sort()).toEqual([d(60), d(61), d(62)]);
  });
});
