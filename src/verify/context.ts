/**
 * What one verification run carries: the GUN, the fixed clock, the failure policy, limits, the
 * key cache and the source of bytes — checked once from the caller's options, so that every step
 * after works on values it can trust (a clock copied, a mode that exists, limits that are
 * positive integers).
 */
import { isTrustError, TrustError } from '../errors.js';
import { fileTooLarge, type SizeCap } from '../tuf/hashes.js';
import { KeyCache } from '../tuf/keys.js';
import type { DocumentLimits } from '../tuf/document.js';
import { resolvePins, type ResolvedPins } from '../tuf/trust-pinning.js';
import { resolveLimits } from './limits.js';
import type { FailurePolicy, VerifyLimits, VerifyOptions } from './types.js';

export interface VerifyContext {
  gun: string;
  now: Date;
  mode: FailurePolicy;
  limits: VerifyLimits;
  /** What every metadata file is read with (from `limits`). */
  parseLimits: DocumentLimits;
  cache: KeyCache;
  source: VerifyOptions['source'];
  /** The pins that apply to this GUN, if any (trust-pinning.ts). */
  pins: ResolvedPins | undefined;
  trustedVersions: Readonly<Record<string, number>>;
}

function invalid(message: string): TrustError {
  return new TrustError('ERR_INVALID_ARGUMENT', message);
}

/**
 * Checks the caller's options and fixes the run's inputs.
 * @throws {TrustError} `ERR_INVALID_ARGUMENT`
 */
export function createContext(opts: VerifyOptions): VerifyContext {
  if (typeof opts !== 'object' || opts === null) throw invalid('verifyRepository needs an options object');
  if (typeof opts.gun !== 'string' || opts.gun.length === 0) throw invalid('gun must be a non-empty string');
  if (!(opts.now instanceof Date) || Number.isNaN(opts.now.getTime())) throw invalid('now must be a valid Date');
  if (typeof opts.source !== 'function') throw invalid('source must be a function (role, maxBytes) => bytes | undefined');
  const mode = opts.mode ?? 'strict';
  if (mode !== 'strict' && mode !== 'online-equivalent') throw invalid(`mode must be strict or online-equivalent, got ${String(mode)}`);
  if (opts.trustedState && opts.trustedState.gun !== opts.gun) {
    throw invalid(`trusted state is for ${opts.trustedState.gun}, not ${opts.gun}`);
  }
  const limits = resolveLimits(opts.limits);
  return {
    gun: opts.gun,
    now: new Date(opts.now.getTime()),
    mode,
    limits,
    parseLimits: { maxDepth: limits.maxJsonDepth, maxSignatures: limits.maxSignatures },
    cache: new KeyCache(),
    source: opts.source,
    pins: opts.pins === undefined ? undefined : resolvePins(opts.pins, opts.gun),
    trustedVersions: opts.trustedState?.versions ?? {},
  };
}

/**
 * The bytes of `<role>.json`, at most `maxBytes` of them. A source may refuse a larger file
 * itself without knowing where the cap comes from; the report then names it (notary-rules.md §7.4).
 * @throws {TrustError} `ERR_METADATA_NOT_FOUND`, `ERR_METADATA_TOO_LARGE`
 */
export function readRoleFile(ctx: VerifyContext, role: string, maxBytes: number, cap: SizeCap): Uint8Array {
  let bytes: Uint8Array | undefined;
  try {
    bytes = ctx.source(role, maxBytes);
  } catch (e) {
    if (isTrustError(e) && e.code === 'ERR_METADATA_TOO_LARGE' && e.role === role && typeof e.actual === 'number') {
      throw fileTooLarge(role, e.actual, maxBytes, cap);
    }
    throw e;
  }
  if (bytes === undefined) {
    throw new TrustError('ERR_METADATA_NOT_FOUND', `${role}.json is not in the trust cache of ${ctx.gun}`, {
      role,
      check: 'file present',
      path: `${role}.json`,
    });
  }
  if (bytes.length > maxBytes) throw fileTooLarge(role, bytes.length, maxBytes, cap);
  return bytes;
}
