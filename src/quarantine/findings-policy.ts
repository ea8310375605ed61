/**
 * Findings policy: severity ranking, and findings judged against a threshold with waivers
 * (quarantine.md §4 "Policy evaluation", "Waivers / allowlist with expiry"). Pure functions of
 * their arguments and `now`; the multi-scanner quorum is in `quorum.ts`.
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
 * import { severityRank } from './findings-policy.js';
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
 * import { evaluateFindings } from './findings-policy.js';
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
 * import { scannerOutcome } from './findings-policy.js';
 * import { parseConfig } from 'trustgate/quarantine';
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
