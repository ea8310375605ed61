import { describe, it, expect } from 'vitest';
import { QUARANTINE_STATES } from '../../src/quarantine/index.js';
import { MACHINE_EVENTS } from '../../src/quarantine/types.js';
import { TRANSITIONS, transition } from '../../src/quarantine/transitions.js';
import type { QuarantineState } from '../../src/quarantine/index.js';
import type { MachineEvent } from '../../src/quarantine/types.js';
import { isTrustError } from '../../src/errors.js';

type Expect = { to: QuarantineState | 'previous'; emits: string[] } | 'illegal';
const X = 'illegal' as const;

// Written out by hand from quarantine.md §6 (not derived from TRANSITIONS). `block` / `alert` name the
// onNewFindings setting where the outcome depends on it.
const EXPECTED: Record<QuarantineState, Record<MachineEvent, { block: Expect; alert: Expect }>> = (() => {
  const same = (e: Expect) => ({ block: e, alert: e });
  return {
    Quarantined: {
      push: same({ to: 'Quarantined', emits: [] }),
      delete: same({ to: 'Quarantined', emits: [] }),
      'scan.passed': same({ to: 'Passed', emits: ['quarantine.passed'] }),
      'scan.failed': same({ to: 'Failed', emits: ['quarantine.failed'] }),
      'scan.unresolved': same({ to: 'Unresolved', emits: ['quarantine.unresolved'] }),
      'scan.retry': same({ to: 'Quarantined', emits: ['scan.retry'] }),
      'scan.timeout': same({ to: 'Unresolved', emits: ['quarantine.unresolved'] }),
      rescan: same({ to: 'Quarantined', emits: ['scan.requested'] }),
      release: same({ to: 'Released', emits: ['quarantine.released'] }),
      'release.expired': same(X),
      revoke: same(X),
      'waiver.expired': same(X),
      'policy.changed': same({ to: 'Quarantined', emits: ['scan.requested'] }),
    },
    Passed: {
      push: same({ to: 'Passed', emits: [] }),
      delete: same({ to: 'Passed', emits: [] }),
      'scan.passed': same({ to: 'Passed', emits: ['quarantine.passed'] }),
      'scan.failed': {
        block: { to: 'Failed', emits: ['quarantine.revoked'] },
        alert: { to: 'Passed', emits: ['quarantine.findings_changed'] },
      },
      'scan.unresolved': same({ to: 'Passed', emits: ['quarantine.rescan_unresolved'] }),
      'scan.retry': same({ to: 'Passed', emits: ['scan.retry'] }),
      'scan.timeout': same({ to: 'Passed', emits: ['quarantine.rescan_unresolved'] }),
      rescan: same({ to: 'Passed', emits: ['scan.requested'] }),
      release: same(X),
      'release.expired': same(X),
      revoke: same({ to: 'Failed', emits: ['quarantine.revoked'] }),
      'waiver.expired': same({ to: 'Failed', emits: ['quarantine.failed'] }),
      'policy.changed': same({ to: 'Quarantined', emits: ['scan.requested'] }),
    },
    Failed: {
      push: same({ to: 'Failed', emits: [] }),
      delete: same({ to: 'Failed', emits: [] }),
      'scan.passed': same(X),
      'scan.failed': same(X),
      'scan.unresolved': same(X),
      'scan.retry': same(X),
      'scan.timeout': same(X),
      rescan: same({ to: 'Quarantined', emits: ['scan.requested'] }),
      release: same({ to: 'Released', emits: ['quarantine.released'] }),
      'release.expired': same(X),
      revoke: same(X),
      'waiver.expired': same(X),
      'policy.changed': same({ to: 'Quarantined', emits: ['scan.requested'] }),
    },
    Unresolved: {
      push: same({ to: 'Unresolved', emits: [] }),
      delete: same({ to: 'Unresolved', emits: [] }),
      'scan.passed': same(X),
      'scan.failed': same(X),
      'scan.unresolved': same(X),
      'scan.retry': same(X),
      'scan.timeout': same(X),
      rescan: same({ to: 'Quarantined', emits: ['scan.requested'] }),
      release: same({ to: 'Released', emits: ['quarantine.released'] }),
      'release.expired': same(X),
      revoke: same(X),
      'waiver.expired': same(X),
      'policy.changed': same({ to: 'Quarantined', emits: ['scan.requested'] }),
    },
    Released: {
      push: same({ to: 'Released', emits: [] }),
      delete: same({ to: 'Released', emits: [] }),
      'scan.passed': same({ to: 'Passed', emits: ['quarantine.passed'] }),
      'scan.failed': same({ to: 'Released', emits: ['quarantine.failed'] }),
      'scan.unresolved': same({ to: 'Released', emits: ['quarantine.unresolved'] }),
      'scan.retry': same({ to: 'Released', emits: ['scan.retry'] }),
      'scan.timeout': same({ to: 'Released', emits: ['quarantine.unresolved'] }),
      rescan: same({ to: 'Released', emits: ['scan.requested'] }),
      release: same(X),
      'release.expired': same({ to: 'previous', emits: ['quarantine.release_expired'] }),
      revoke: same({ to: 'Failed', emits: ['quarantine.revoked'] }),
      'waiver.expired': same(X),
      'policy.changed': same({ to: 'Released', emits: ['scan.requested'] }),
    },
  };
})();

const cases = QUARANTINE_STATES.flatMap((s) =>
  MACHINE_EVENTS.flatMap((e) => (['block', 'alert'] as const).map((g) => [s, e, g] as const)),
);

describe('transition table: every (state, event) pair', () => {
  it('covers 5 states × 13 events × 2 guard settings', () => {
    expect(cases).toHaveLength(5 * 13 * 2);
  });

  it.each(cases)('%s + %s (onNewFindings=%s)', (state, event, guard) => {
    const want = EXPECTED[state][event][guard];
    if (want === 'illegal') {
      expect(() => transition(state, event, { onNewFindings: guard })).toThrow(
        expect.objectContaining({ code: 'ERR_ILLEGAL_TRANSITION' }),
      );
    } else {
      const got = transition(state, event, { onNewFindings: guard });
      expect({ to: got.to, emits: [...got.emits] }).toEqual(want);
    }
  });

  it('is deeply frozen data', () => {
    expect(Object.isFrozen(TRANSITIONS)).toBe(true);
    expect(Object.isFrozen(TRANSITIONS.Passed)).toBe(true);
    expect(Object.isFrozen(TRANSITIONS.Passed['scan.failed'])).toBe(true);
    expect(Object.isFrozen(TRANSITIONS.Passed['scan.failed']?.[0])).toBe(true);
    expect(() => {
      (TRANSITIONS as unknown as Record<string, unknown>)['Failed'] = {};
    }).toThrow(TypeError);
  });

  it('no visible state is reachable from a non-visible one except by a pass or a release (Q1)', () => {
    for (const s of ['Quarantined', 'Failed', 'Unresolved'] as const) {
      for (const e of MACHINE_EVENTS) {
        let to: string;
        try {
          to = transition(s, e, { onNewFindings: 'block' }).to;
        } catch (err) {
          // Only an illegal pair is skipped; any other failure is a bug in the table or its lookup.
          if (isTrustError(err) && err.code === 'ERR_ILLEGAL_TRANSITION') continue;
          throw err;
        }
        if (to === 'Passed') expect(e).toBe('scan.passed');
        if (to === 'Released') expect(e).toBe('release');
      }
    }
  });
});
