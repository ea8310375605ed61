/**
 * The caller's limits (`VerifyLimits`): sizes, depth, signatures, delegation count. Notary caps
 * file sizes too (notary-rules.md §7.4); the count of delegations is trustgate's own bound
 * against a cache that grows the tree without end.
 */
import { TrustError } from '../errors.js';
import { DEFAULT_LIMITS, type VerifyLimits } from './types.js';

/**
 * Defaults for what is not given; anything given must be a positive integer.
 * @throws {TrustError} `ERR_INVALID_ARGUMENT`
 */
export function resolveLimits(given: Partial<VerifyLimits> | undefined): VerifyLimits {
  if (given !== undefined && (typeof given !== 'object' || given === null)) {
    throw new TrustError('ERR_INVALID_ARGUMENT', 'limits must be an object');
  }
  const limits: VerifyLimits = { ...DEFAULT_LIMITS };
  for (const k of Object.keys(DEFAULT_LIMITS) as (keyof VerifyLimits)[]) {
    const v = given?.[k];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 1) throw new TrustError('ERR_INVALID_ARGUMENT', `limits.${k} must be a positive integer, got ${String(v)}`);
    limits[k] = v;
  }
  return limits;
}

/**
 * One more delegated role may be loaded only while fewer than `maxDelegations` are.
 * @throws {TrustError} `ERR_METADATA_TOO_LARGE`
 */
export function checkDelegationCount(loaded: number, limits: VerifyLimits, role: string): void {
  if (loaded > limits.maxDelegations) {
    throw new TrustError('ERR_METADATA_TOO_LARGE', `more than ${limits.maxDelegations} delegated roles`, {
      role,
      check: 'delegation count',
      expected: limits.maxDelegations,
    });
  }
}
