/**
 * Re-evaluation under a changed policy (quarantine.md §5 Q5, Q20; §6 `policy.changed`): every
 * record last judged under another policy version is judged again before a step or a view reads
 * it, so a policy change takes effect at once in every repository, and persists with the next
 * accepted command there. Re-evaluation only ever removes visibility: a `Passed` whose verdicts
 * no longer meet the policy (a scanner added, a threshold lowered, a waiver revoked) opens a new
 * generation; nothing non-visible is granted.
 *
 * @module
 */
import type { Draft } from './draft.js';
import { SYSTEM } from './draft.js';
import { evaluateFindings, scannerOutcome } from './findings-policy.js';
import { openGeneration } from './fire.js';
import { decideQuorum } from './quorum.js';
import { hasStalePolicy } from './repo-index.js';
import type { DigestRecord, StoredVerdict } from './types.js';

/** The verdicts with their outcomes recomputed under the draft's policy. */
function rejudged(d: Draft, rec: DigestRecord): readonly StoredVerdict[] {
  return rec.verdicts.map((v) => {
    const o = scannerOutcome(v.result, v.findings, d.config, rec.repository, rec.digest, d.now);
    return { ...v, outcome: o.outcome, validUntil: o.validUntil };
  });
}

/**
 * Whether a `Passed` record's decision still holds: its generation's verdicts meet the quorum,
 * and (in findings mode) its findings pass, under the current policy. A record whose decided
 * generation's verdicts are gone (a rescan is open) cannot be shown to hold, so it does not.
 */
function passStillHolds(d: Draft, rec: DigestRecord): { holds: boolean; validUntil: number | undefined } {
  if (rec.scanOpen || rec.verdictGeneration !== rec.generation) return { holds: false, validUntil: undefined };
  if (decideQuorum(rejudged(d, rec), d.config) !== 'pass') return { holds: false, validUntil: undefined };
  const e = d.config.evaluation;
  if (e.mode === 'verdict') return { holds: true, validUntil: undefined };
  const policy = { threshold: e.threshold, fixableOnly: e.fixableOnly, waivers: d.config.waivers };
  const r = evaluateFindings(rec.findings, policy, rec.repository, rec.digest, d.now);
  return { holds: r.outcome === 'pass', validUntil: r.validUntil };
}

function reevaluate(d: Draft, rec: DigestRecord): void {
  const policyVersion = d.config.policyVersion;
  if (rec.state === 'Passed') {
    const p = passStillHolds(d, rec);
    if (p.holds) {
      d.put({ ...rec, policyVersion, validUntil: p.validUntil, verdicts: rejudged(d, rec) });
      return;
    }
    const actor = { id: SYSTEM.id, kind: 'system' as const, command: 'policy', reason: `policy ${rec.policyVersion} → ${policyVersion}` };
    openGeneration(d, rec, actor, 'policy.changed', { policyVersion });
    return;
  }
  // Non-visible and released records keep their state (Q5: a policy change never grants); an open
  // generation's verdicts are judged again so that a stale lenient outcome cannot pass it later.
  d.put({ ...rec, policyVersion, verdicts: rec.scanOpen ? rejudged(d, rec) : rec.verdicts });
}

/** Re-evaluates every record of the draft's base judged under another policy version. */
export function reevaluateStale(d: Draft): void {
  if (!hasStalePolicy(d.baseRecords, d.config.policyVersion)) return;
  const stale = [...d.baseRecords.keys()].filter((digest) => d.rec(digest)?.policyVersion !== d.config.policyVersion).sort();
  for (const digest of stale) {
    const rec = d.rec(digest);
    if (rec !== undefined) reevaluate(d, rec);
  }
}
