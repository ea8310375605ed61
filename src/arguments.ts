/**
 * Checks of the arguments public functions receive. TypeScript callers cannot pass the wrong
 * type, but plain JavaScript callers can, and a raw `TypeError` from deep inside would be a
 * crash rather than a typed refusal: every public function refuses a missing or wrong-typed
 * argument with `ERR_INVALID_ARGUMENT` naming it.
 */
import { TrustError } from './errors.js';

export function invalidArgument(message: string): TrustError {
  return new TrustError('ERR_INVALID_ARGUMENT', message, { check: 'argument' });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`;
}

/** @throws {TrustError} `ERR_INVALID_ARGUMENT` unless `v` is a string. */
export function requireString(v: unknown, what: string): asserts v is string {
  if (typeof v !== 'string') throw invalidArgument(`${what} must be a string, got ${describe(v)}`);
}

/** @throws {TrustError} `ERR_INVALID_ARGUMENT` unless `v` is a non-null, non-array object. */
export function requireObject(v: unknown, what: string): asserts v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidArgument(`${what} must be an object, got ${describe(v)}`);
}
