/**
 * The quarantine transition table, as frozen data, and the one function that reads it.
 *
 * Implements quarantine.md §6. Guards that need the record (role, generation,
 * quorum, deadline, TTL) are checked by the callers before an event reaches this table; the only
 * guard kept here is `onNewFindings`, because it picks between two targets.
 *
 * @module
 */
import { TrustError } from '../errors.js';
import type { EventType, MachineEvent, QuarantineState } from './types.js';

/**
 * Where a rule leads: a state, or `previous` (the state a lapsing release falls back to).
 *
 * @example
 * ```ts
 * const t: TransitionTarget = 'previous';
 * ```
 */
export type TransitionTarget = QuarantineState | 'previous';

/**
 * The guard a rule may carry. Only `Passed` + `scan.failed` has two guarded rules.
 *
 * @example
 * ```ts
 * const g: TransitionGuard = 'onNewFindings=alert';
 * ```
 */
export type TransitionGuard = 'onNewFindings=block' | 'onNewFindings=alert';

/**
 * One row of the table.
 *
 * @example
 * ```ts
 * const rule: TransitionRule = { to: 'Passed', emits: ['quarantine.passed'] };
 * ```
 */
export interface TransitionRule {
  readonly to: TransitionTarget;
  readonly emits: readonly EventType[];
  readonly when?: TransitionGuard;
}

/**
 * Values the guards read.
 *
 * @example
 * ```ts
 * const ctx: GuardContext = { onNewFindings: 'block' };
 * ```
 */
export interface GuardContext {
  readonly onNewFindings: 'block' | 'alert';
}

type Table = Readonly<Record<QuarantineState, Readonly<Partial<Record<MachineEvent, readonly TransitionRule[]>>>>>;

const r = (to: TransitionTarget, ...emits: EventType[]): readonly TransitionRule[] => [{ to, emits }];

const table: Table = {
  Quarantined: {
    push: r('Quarantined'),
    delete: r('Quarantined'),
    'scan.passed': r('Passed', 'quarantine.passed'),
    'scan.failed': r('Failed', 'quarantine.failed'),
    'scan.unresolved': r('Unresolved', 'quarantine.unresolved'),
    'scan.retry': r('Quarantined', 'scan.retry'),
    // Q3/quarantine.md §4: a deadline never leads to Passed.
    'scan.timeout': r('Unresolved', 'quarantine.unresolved'),
    rescan: r('Quarantined', 'scan.requested'),
    release: r('Released', 'quarantine.released'),
    // quarantine.md §6 row 2: a retained verdict is reused only under the policy version it was reached under.
    'policy.changed': r('Quarantined', 'scan.requested'),
  },
  Passed: {
    push: r('Passed'),
    delete: r('Passed'),
    'scan.passed': r('Passed', 'quarantine.passed'),
    'scan.failed': [
      { to: 'Failed', emits: ['quarantine.revoked'], when: 'onNewFindings=block' },
      { to: 'Passed', emits: ['quarantine.findings_changed'], when: 'onNewFindings=alert' },
    ],
    // Q17: a rescan that cannot conclude leaves the last verdict in force.
    'scan.unresolved': r('Passed', 'quarantine.rescan_unresolved'),
    'scan.retry': r('Passed', 'scan.retry'),
    'scan.timeout': r('Passed', 'quarantine.rescan_unresolved'),
    rescan: r('Passed', 'scan.requested'),
    revoke: r('Failed', 'quarantine.revoked'),
    'waiver.expired': r('Failed', 'quarantine.failed'),
    // Unlike a rescan (Q17), the verdict in force no longer counts: it was reached under another policy.
    'policy.changed': r('Quarantined', 'scan.requested'),
  },
  Failed: {
    push: r('Failed'),
    delete: r('Failed'),
    rescan: r('Quarantined', 'scan.requested'),
    release: r('Released', 'quarantine.released'),
    'policy.changed': r('Quarantined', 'scan.requested'),
  },
  Unresolved: {
    push: r('Unresolved'),
    delete: r('Unresolved'),
    rescan: r('Quarantined', 'scan.requested'),
    release: r('Released', 'quarantine.released'),
    'policy.changed': r('Quarantined', 'scan.requested'),
  },
  // Scan events keep running under a release; they update `release.previous` (see machine.ts).
  Released: {
    push: r('Released'),
    delete: r('Released'),
    'scan.passed': r('Passed', 'quarantine.passed'),
    'scan.failed': r('Released', 'quarantine.failed'),
    'scan.unresolved': r('Released', 'quarantine.unresolved'),
    'scan.retry': r('Released', 'scan.retry'),
    'scan.timeout': r('Released', 'quarantine.unresolved'),
    rescan: r('Released', 'scan.requested'),
    'policy.changed': r('Released', 'scan.requested'),
    'release.expired': r('previous', 'quarantine.release_expired'),
    revoke: r('Failed', 'quarantine.revoked'),
  },
};

/**
 * Freezes `value` and everything reachable from it; returns it.
 *
 * @internal
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The transition table: `TRANSITIONS[state][event]` lists the rules; a missing entry is illegal.
 * Deeply frozen.
 *
 * @example
 * ```ts
 * import { TRANSITIONS } from './transitions.js';
 * TRANSITIONS.Quarantined['scan.passed']?.[0]?.to; // 'Passed'
 * TRANSITIONS.Failed['scan.passed'];               // undefined: illegal
 * ```
 */
export const TRANSITIONS: Table = deepFreeze(table);

/**
 * Looks up the rule for `(state, event)` and returns it; throws when the pair is illegal.
 * Never returns "no change" silently for an illegal pair.
 *
 * @throws {TrustError} `ERR_ILLEGAL_TRANSITION` when the table has no rule whose guard holds.
 * @example
 * ```ts
 * import { transition } from './transitions.js';
 * transition('Passed', 'scan.failed', { onNewFindings: 'alert' }).to; // 'Passed'
 * transition('Failed', 'revoke', { onNewFindings: 'block' });         // throws ERR_ILLEGAL_TRANSITION
 * ```
 */
export function transition(state: QuarantineState, event: MachineEvent, ctx: GuardContext): TransitionRule {
  const rules = TRANSITIONS[state]?.[event];
  const rule = rules?.find((x) => x.when === undefined || x.when === `onNewFindings=${ctx.onNewFindings}`);
  if (rule === undefined) {
    throw new TrustError('ERR_ILLEGAL_TRANSITION', `illegal transition: ${event} in state ${state}`, {
      check: 'transition table',
      actual: `${state} + ${event}`,
    });
  }
  return rule;
}
