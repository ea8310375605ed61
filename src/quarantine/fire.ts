/**
 * The one place a record's `state` changes: a machine event applied through the transition table
 * (quarantine.md §6), with its audit record and the events the table's row emits (Q21, Q22).
 *
 * @module
 */
import { TrustError } from '../errors.js';
import type { Actor, Draft } from './draft.js';
import { TRANSITIONS, transition } from './transitions.js';
import { MACHINE_EVENTS } from './types.js';
import type { DigestRecord, MachineEvent, NonVisibleState, QuarantineState } from './types.js';

/** The scan events: under a release they move the state the release falls back to. */
const SCAN_EVENTS: ReadonlySet<MachineEvent> = new Set(
  MACHINE_EVENTS.filter((e) => e === 'rescan' || e === 'policy.changed' || e.startsWith('scan.')),
);

/** Applies one machine event through the table; the only place a record's `state` changes. */
export function fire(
  d: Draft,
  rec: DigestRecord,
  event: MachineEvent,
  at: number,
  actor: Actor,
  patch: (to: QuarantineState) => Partial<DigestRecord>,
): DigestRecord {
  const guards = { onNewFindings: d.config.onNewFindings };
  const rule = transition(rec.state, event, guards);
  let to: QuarantineState;
  if (rule.to === 'previous') {
    if (rec.release === undefined) throw new TrustError('ERR_ILLEGAL_TRANSITION', 'release has no previous state');
    to = rec.release.previous;
  } else {
    to = rule.to;
  }
  let release = rec.release;
  if (rec.state === 'Released' && to === 'Released' && release !== undefined && SCAN_EVENTS.has(event)) {
    // Under a release, scan events keep moving the state the release will fall back to.
    const under = transition(release.previous, event, guards).to;
    if (under === 'Quarantined' || under === 'Failed' || under === 'Unresolved') {
      release = { ...release, previous: under satisfies NonVisibleState };
    }
  }
  let emits = rule.emits;
  if ((to === 'Failed' || to === 'Quarantined' || to === 'Unresolved') && rec.release !== undefined && standsUnder(rec, event, at)) {
    // Issue 12.2 (Q18, Q19): a release stands until it expires or is revoked, even after a pass
    // put the digest in Passed meanwhile; losing that pass falls back onto the release.
    release = { ...rec.release, previous: to };
    emits = TRANSITIONS.Released[event]?.[0]?.emits ?? emits;
    to = 'Released';
  }
  if (to !== 'Released' && !(to === 'Passed' && event !== 'revoke')) release = undefined;
  const next: DigestRecord = { ...rec, release, ...patch(to), state: to };
  const underlying = next.state === 'Released' ? next.release?.previous : next.state;
  let out = d.put({ ...next, unresolvedReason: underlying === 'Unresolved' ? next.unresolvedReason : undefined });
  // The audit's `at` is when the change is committed (the step's now), so that it grows with the
  // store's `seq` (Q22; issue 12: a deadline applied late was audited at its due time, after
  // entries of later times). The event keeps the exact due time (Q18).
  d.record(d.now, actor, { digest: rec.digest, from: rec.state, to, generation: next.generation });
  for (const type of emits) {
    out = d.emit(rec.digest, type, at, { from: rec.state, actor: actor.id, reason: actor.reason });
  }
  return out;
}

/** Whether `rec` is `Passed` with a release granted before its pass that is still in effect at `at`. */
function standsUnder(rec: DigestRecord, event: MachineEvent, at: number): boolean {
  return rec.state === 'Passed' && event !== 'revoke' && rec.release !== undefined && at < rec.release.expiresAt;
}

/** Opens a new scan generation on `rec` (the `rescan` and `policy.changed` rows of quarantine.md §6). */
export function openGeneration(
  d: Draft,
  rec: DigestRecord,
  actor: Actor,
  event: 'rescan' | 'policy.changed' = 'rescan',
  extra: Partial<DigestRecord> = {},
): DigestRecord {
  return fire(d, rec, event, d.now, actor, () => ({
    ...extra,
    generation: rec.generation + 1,
    scanOpen: true,
    deadline: d.now + d.config.scanDeadlineMs,
    retries: 0,
    verdicts: [],
  }));
}
