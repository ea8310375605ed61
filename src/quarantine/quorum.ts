/**
 * The multi-scanner quorum: how the verdicts of one generation decide it (quarantine.md §4
 * "Multi-scanner quorum", Q13, Q20).
 *
 * @module
 */
import type { QuarantineConfig } from './schemas.js';
import type { StoredVerdict } from './types.js';

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
 * import { decideQuorum } from './quorum.js';
 * import { parseConfig } from 'trustgate/quarantine';
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
