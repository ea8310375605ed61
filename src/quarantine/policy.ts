/**
 * Policy evaluation: severity ranking, findings against a threshold with waivers, and the
 * multi-scanner quorum. Pure functions of their arguments and `now`.
 *
 * @module
 */
import type { QuarantineConfig } from './schemas.js';
import { SEVERITIES } from './types.js';
import type { Finding, Severity, StoredVerdict, Waiver } from './types.js';

/** Rank of a severity string this module does not know: above Critical (Q4, fail closed). */
export const UNKNOWN_SEVERITY_RANK = SEVERITIES.length;

/**
 * Ranks a severity: `None` 0 … `Critical` 4; anything else ranks above `Critical` (Q4).
 *
 * @example
 * ```ts
 * import { severityRank } from 'trustgate/quarantine';
 * severityRank('High') < severityRank('Critical'); // true
 * severityRank('Catastrophic') > severityRank('Critical'); // true: unknown counts as the highest
 * ```
 */
export function severityRank(severity: string): number {
  const i = (SEVERITIES as readonly string[]).indexOf(severity);
  return i === -1 ? UNKNOWN_SEVERITY_RANK : i;
}

/**
 * Result of evaluating findings.
 *
 * @example
 * ```ts
 * const r: FindingsEvaluation = { outcome: 'pass', blocking: [], waived: [], validUntil: undefined };
 * ```
 */
export interface FindingsEvaluation {
  readonly outcome: 'pass' | 'fail';
  readonly blocking: readonly Finding[];
  readonly waived: readonly { readonly findingId: string; readonly waiverId: string; readonly expiresAt: number }[];
  /** When a waiver used here expires, the outcome must be recomputed (Q18). */
  readonly validUntil: number | undefined;
}

/**
 * Options for {@link evaluateFindings}.
 *
 * @example
 * ```ts
 * const o: FindingsPolicy = { threshold: 'High', fixableOnly: true, waivers: [] };
 * ```
 */
export interface FindingsPolicy {
  readonly threshold: Severity;
  readonly fixableOnly: boolean;
  readonly waivers: readonly Waiver[];
}

function waiverApplies(w: Waiver, findingId: string, repository: string, digest: string, now: number): boolean {
  // Q18: a waiver has effect exactly when now < expiresAt.
  if (w.findingId !== findingId || now >= w.expiresAt || now < w.createdAt) return false;
  switch (w.scope.kind) {
    case 'registry':
      return true;
    case 'repository':
      return w.scope.repository === repository;
    case 'digest':
      return w.scope.repository === repository && w.scope.digest === digest;
  }
}

/**
 * Evaluates findings for one `(repository, digest)`: a finding blocks when its severity is at or
 * above the threshold, it is fixable (or its fixability is unknown) under `fixableOnly`, and no
 * live waiver in scope covers it.
 *
 * @example
 * ```ts
 * import { evaluateFindings } from 'trustgate/quarantine';
 * evaluateFindings([{ id: 'CVE-1', severity: 'Low' }], { threshold: 'High', fixableOnly: false, waivers: [] },
 *   'app', 'sha256:ab', Date.now()).outcome; // 'pass'
 * ```
 */
export function evaluateFindings(
  findings: readonly Finding[],
  policy: FindingsPolicy,
  repository: string,
  digest: string,
  now: number,
): FindingsEvaluation {
  const limit = severityRank(policy.threshold);
  const blocking: Finding[] = [];
  const waived: { findingId: string; waiverId: string; expiresAt: number }[] = [];
  for (const f of findings) {
    if (severityRank(f.severity) < limit) continue;
    if (policy.fixableOnly && f.fixable === false) continue;
    // The longest-lived matching waiver is used, so the outcome is re-evaluated as late as possible.
    let best: Waiver | undefined;
    for (const w of policy.waivers) {
      if (waiverApplies(w, f.id, repository, digest, now) && (best === undefined || w.expiresAt > best.expiresAt)) best = w;
    }
    if (best === undefined) blocking.push(f);
    else waived.push({ findingId: f.id, waiverId: best.id, expiresAt: best.expiresAt });
  }
  const outcome = blocking.length === 0 ? 'pass' : 'fail';
  const validUntil = outcome === 'pass' && waived.length > 0 ? Math.min(...waived.map((w) => w.expiresAt)) : undefined;
  return { outcome, blocking, waived, validUntil };
}

/**
 * The per-scanner outcome of a verdict under the configured evaluation mode.
 *
 * @example
 * ```ts
 * import { scannerOutcome, parseConfig } from 'trustgate/quarantine';
 * scannerOutcome('unsupported', [], parseConfig({ scanners: ['t'] }), 'app', 'sha256:ab', 0).outcome; // 'unresolved'
 * ```
 */
export function scannerOutcome(
  result: StoredVerdict['result'],
  findings: readonly Finding[],
  config: QuarantineConfig,
  repository: string,
  digest: string,
  now: number,
): { readonly outcome: StoredVerdict['outcome']; readonly validUntil: number | undefined } {
  if (result === 'unsupported' || result === 'error') return { outcome: 'unresolved', validUntil: undefined };
  if (config.evaluation.mode === 'verdict') return { outcome: result, validUntil: undefined };
  // A scanner that says "fail" without evidence is believed: never turn that into a pass.
  if (result === 'fail' && findings.length === 0) return { outcome: 'fail', validUntil: undefined };
  const e = evaluateFindings(
    findings,
    { threshold: config.evaluation.threshold, fixableOnly: config.evaluation.fixableOnly, waivers: config.waivers },
    repository,
    digest,
    now,
  );
  return { outcome: e.outcome, validUntil: e.validUntil };
}

/**
 * A quorum decision over the verdicts of one generation.
 *
 * @example
 * ```ts
 * const d: QuorumDecision = 'pending';
 * ```
 */
export type QuorumDecision = 'pass' | 'fail' | 'unresolved' | 'pending';

/**
 * Decides a generation from its verdicts. The decision is monotone: once it is not `pending`,
 * no further verdict of the same generation can change it, which makes the result independent
 * of delivery order (Q13) and a `Passed` imply the quorum (Q20).
 *
 * @example
 * ```ts
 * import { decideQuorum, parseConfig } from 'trustgate/quarantine';
 * const config = parseConfig({ scanners: ['a', 'b'] });
 * decideQuorum([{ scannerId: 'a', outcome: 'pass' }], config); // 'pending': b has not reported
 * ```
 */
export function decideQuorum(
  verdicts: readonly Pick<StoredVerdict, 'scannerId' | 'outcome'>[],
  config: QuarantineConfig,
): QuorumDecision {
  const n = config.scanners.length;
  const k = config.quorum.mode === 'all' ? n : config.quorum.k;
  const byScanner = new Map<string, StoredVerdict['outcome']>();
  for (const v of verdicts) if (config.scanners.includes(v.scannerId)) byScanner.set(v.scannerId, v.outcome);
  let passes = 0;
  let fails = 0;
  for (const o of byScanner.values()) {
    if (o === 'pass') passes++;
    else if (o === 'fail') fails++;
  }
  const pending = n - byScanner.size;
  if (config.anyFailFails && fails > 0) return 'fail';
  if (passes >= k && (!config.anyFailFails || pending === 0)) return 'pass';
  if (passes + pending < k) {
    if (fails > 0) return 'fail';
    // Wait for everyone: a late `fail` would otherwise turn an early `unresolved` into `fail`.
    if (pending === 0) return 'unresolved';
  }
  return 'pending';
}
