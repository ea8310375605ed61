/**
 * A scanner verdict: idempotency (Q14), generations (Q12, Q15), one verdict per scanner, the
 * quorum (Q13, Q20) and the transition it decides (quarantine.md §6).
 *
 * @module
 */
import { actorOf, reject, requireRecord, requireRole } from './draft.js';
import type { Draft } from './draft.js';
import { fire, openGeneration } from './fire.js';
import { scannerOutcome } from './findings-policy.js';
import { decideQuorum } from './quorum.js';
import type { Command } from './schemas.js';
import type { DigestRecord, MachineEvent, StoredVerdict, VerdictResponse } from './types.js';

function fingerprint(c: Extract<Command, { type: 'verdict' }>): string {
  return JSON.stringify([c.generation ?? null, c.result, c.findings, c.link ?? null]);
}

function unresolvedReasonOf(verdicts: readonly StoredVerdict[]): DigestRecord['unresolvedReason'] {
  if (verdicts.some((v) => v.result === 'error')) return 'error';
  if (verdicts.some((v) => v.result === 'unsupported')) return 'unsupported';
  return 'quorum';
}

/** Q12, Q17 (issue 12.1), one verdict per scanner: whether `generation` may still take this scanner's verdict. */
function checkGeneration(d: Draft, rec: DigestRecord, scannerId: string, generation: number): void {
  if (generation !== rec.generation) {
    // Q12: a stale (or not yet opened) generation never changes anything.
    reject('ERR_CONFLICT', `verdict for generation ${generation}, current is ${rec.generation}`, {
      check: 'generation',
      expected: rec.generation,
      actual: generation,
    });
  }
  if (!rec.scanOpen && decideQuorum(rec.verdicts, d.config) === 'pending') {
    // Issue 12.1 (quarantine.md §6, Q17): the generation was closed by its deadline (or an
    // override) before its verdicts decided it. Accepting the verdict as "final" would tell the
    // scanner it took effect when it did not; it is refused, and the scanner must rescan.
    reject('ERR_CONFLICT', `generation ${generation} was closed before a decision; request a rescan`, { check: 'generation closed' });
  }
  if (rec.verdicts.some((v) => v.scannerId === scannerId)) {
    reject('ERR_CONFLICT', `scanner ${scannerId} already reported for generation ${generation}`, { check: 'one verdict per scanner' });
  }
}

export function applyVerdict(d: Draft, c: Extract<Command, { type: 'verdict' }>): VerdictResponse {
  const { config, now } = d;
  requireRole(c.principal, 'quarantine-writer');
  if (!config.scanners.includes(c.scannerId)) reject('ERR_UNKNOWN_SCANNER', `unknown scanner ${c.scannerId}`);
  let rec = requireRecord(d, c.digest, true);
  const fp = fingerprint(c);
  const prior = rec.responses.find((r) => r.scannerId === c.scannerId && r.idempotencyKey === c.idempotencyKey);
  if (prior !== undefined) {
    // Q14: a replay returns the first answer and changes nothing, not even the audit log.
    if (prior.fingerprint === fp) return { ...prior.response, duplicate: true };
    reject('ERR_INVALID_COMMAND', 'idempotency key reused with a different verdict', { check: 'idempotency key' });
  }
  const actor = actorOf(c.principal, 'verdict');
  let generation = c.generation;
  if (generation === undefined) {
    if (!config.legacyLastWriterWins) reject('ERR_INVALID_COMMAND', 'verdict has no generation', { check: 'generation' });
    if (!rec.scanOpen) rec = openGeneration(d, rec, { ...actor, reason: 'legacy last-writer-wins verdict' });
    generation = rec.generation;
  }
  checkGeneration(d, rec, c.scannerId, generation);
  const o = scannerOutcome(c.result, c.findings, config, rec.repository, rec.digest, now);
  const v: StoredVerdict = {
    scannerId: c.scannerId,
    idempotencyKey: c.idempotencyKey,
    result: c.result,
    outcome: o.outcome,
    findings: c.findings,
    validUntil: o.validUntil,
    at: now,
    link: c.link,
  };
  rec = d.put({ ...rec, verdicts: [...rec.verdicts, v] });
  rec = d.emit(rec.digest, 'scan.verdict', now, { actor: c.principal.id, reason: `${c.scannerId}: ${c.result}` });
  let decision: VerdictResponse['decision'] = 'final';
  if (rec.scanOpen) {
    decision = decideQuorum(rec.verdicts, config);
    if (decision !== 'pending') {
      const event: MachineEvent = decision === 'pass' ? 'scan.passed' : decision === 'fail' ? 'scan.failed' : 'scan.unresolved';
      const decided = rec;
      const validUntils = decided.verdicts.flatMap((x) => (x.outcome === 'pass' && x.validUntil !== undefined ? [x.validUntil] : []));
      rec = fire(d, decided, event, now, actor, (to) => ({
        scanOpen: false,
        deadline: undefined,
        ...(to === decided.state && decided.state === 'Passed' && event !== 'scan.passed'
          ? { findings: decided.verdicts.flatMap((x) => x.findings) }
          : {
              verdictGeneration: generation,
              findings: decided.verdicts.flatMap((x) => x.findings),
              validUntil: decision === 'pass' && validUntils.length > 0 ? Math.min(...validUntils) : undefined,
              unresolvedReason: unresolvedReasonOf(decided.verdicts),
            }),
      }));
    }
  }
  if (decision === 'pending' || decision === 'final') {
    d.record(now, actor, { digest: rec.digest, from: rec.state, to: rec.state, generation: rec.generation });
  }
  const response: VerdictResponse = { state: rec.state, generation: rec.generation, decision, duplicate: false };
  // `rec` is the draft's latest row: every assignment above took what put, emit or fire wrote.
  d.put({
    ...rec,
    responses: [...rec.responses, { scannerId: c.scannerId, idempotencyKey: c.idempotencyKey, fingerprint: fp, response }],
  });
  return response;
}
