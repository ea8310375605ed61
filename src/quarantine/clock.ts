/**
 * The clock: everything due at or before `now` (scan deadlines, release lapses, waiver expiries)
 * applied in time order (quarantine.md §6 deadline and expiry rows, Q3, Q18).
 *
 * @module
 */
import type { Actor, Draft } from './draft.js';
import { SYSTEM } from './draft.js';
import { fire } from './fire.js';
import { evaluateFindings } from './findings-policy.js';
import { dueAt, nextDue, recordIndex } from './repo-index.js';

/** Applies everything due at or before `d.now` (Q3: only ever removes visibility). */
export function advanceTime(d: Draft): void {
  const { config } = d;
  if (d.now < recordIndex(d.baseRecords).dueLowerBound) return;
  const due: string[] = [];
  let rest = Infinity;
  for (const [digest, rec] of d.baseRecords) {
    const at = dueAt(rec);
    if (at <= d.now) due.push(digest);
    else rest = Math.min(rest, at);
  }
  d.dueLowerBound = rest;
  for (const digest of due.sort()) {
    for (;;) {
      const rec = d.rec(digest);
      if (rec === undefined) break;
      const due = nextDue(rec);
      if (due === undefined || due.at > d.now) break;
      const actor: Actor = { id: SYSTEM.id, kind: 'system', command: 'tick' };
      if (due.kind === 'deadline') {
        if (rec.retries < config.maxRetries) {
          fire(d, rec, 'scan.retry', due.at, { ...actor, reason: 'scan deadline passed; retrying' }, () => ({
            generation: rec.generation + 1,
            retries: rec.retries + 1,
            deadline: due.at + config.scanDeadlineMs,
            verdicts: [],
          }));
        } else {
          // quarantine.md §4: deadline → retries → Unresolved, never Passed.
          fire(d, rec, 'scan.timeout', due.at, { ...actor, reason: 'scan deadline passed; no retries left' }, () => ({
            scanOpen: false,
            deadline: undefined,
            unresolvedReason: 'timeout',
          }));
        }
      } else if (due.kind === 'release') {
        fire(d, rec, 'release.expired', due.at, { ...actor, reason: 'release expired' }, () => ({}));
      } else {
        const policy =
          config.evaluation.mode === 'findings'
            ? { threshold: config.evaluation.threshold, fixableOnly: config.evaluation.fixableOnly, waivers: config.waivers }
            : undefined;
        const e = policy === undefined ? undefined : evaluateFindings(rec.findings, policy, rec.repository, digest, due.at);
        if (e !== undefined && e.outcome === 'pass' && e.validUntil !== undefined && e.validUntil > due.at) {
          d.put({ ...rec, validUntil: e.validUntil });
        } else if (e === undefined || e.outcome === 'pass') {
          d.put({ ...rec, validUntil: undefined });
        } else {
          // Q15: the registry's re-evaluation is a new generation, so a terminal verdict moves only upward.
          fire(d, rec, 'waiver.expired', due.at, { ...actor, reason: 'waiver expired' }, () => ({
            generation: rec.generation + 1,
            verdictGeneration: rec.generation + 1,
            scanOpen: false,
            deadline: undefined,
            retries: 0,
            verdicts: [],
            validUntil: undefined,
          }));
        }
      }
    }
  }
}
