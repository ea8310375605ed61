/**
 * Canonical JSON exactly as Notary signs and verifies it (docker/go `MarshalCanonical`, notary-rules.md §5.1).
 *
 * - object members sorted by the UTF-8 bytes of their names (= code point order, which is not
 *   JavaScript's default UTF-16 order for supplementary-plane characters);
 * - strings escape only `"` and `\`; every other character, control characters included, is
 *   written raw;
 * - integers only, no exponent; `-0` is `0`.
 *
 * This is not RFC 8785 (JCS): see notary-rules.md §5.3 for the inputs on which they differ.
 */
import { TrustError } from '../errors.js';
import type { JsonValue } from './strict-parse.js';
import { compareCodePoints } from './canonical-order.js';

export { compareCodePoints };

const NEEDS_ESCAPE = /["\\]/;
const ESCAPES = /["\\]/g;
// Default (UTF-16) sort agrees with code point order unless a key holds a unit ≥ U+D800.
const HIGH_UNITS = /[\ud800-\uffff]/;

function encodeString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? `"${s.replace(ESCAPES, (c) => `\\${c}`)}"` : `"${s}"`;
}

function sortedKeys(o: object): string[] {
  const keys = Object.keys(o);
  for (const k of keys) if (HIGH_UNITS.test(k)) return keys.sort(compareCodePoints);
  return keys.sort();
}

function encode(v: JsonValue): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return encodeString(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(v)) {
        throw new TrustError('ERR_METADATA_MALFORMED', `canonical JSON has integers only, got ${String(v)}`, {
          check: 'canonical json',
        });
      }
      return v === 0 ? '0' : String(v);
    case 'object':
      break;
    default:
      // Only a caller of the public canonicalBytes can get here: parsed JSON holds no such value.
      throw new TrustError('ERR_INVALID_ARGUMENT', `cannot encode ${v === undefined ? 'undefined' : `a ${typeof v}`} as JSON`, { check: 'canonical json' });
  }
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i > 0 ? ',' : '') + encode(v[i] as JsonValue);
    return `${out}]`;
  }
  const keys = sortedKeys(v);
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    out += `${i > 0 ? ',' : ''}${encodeString(k)}:${encode(v[k] as JsonValue)}`;
  }
  return `${out}}`;
}

/** The canonical JSON text of `v`. */
export function canonicalString(v: JsonValue): string {
  return encode(v);
}

/**
 * The canonical JSON bytes of `v`, the exact message Notary signs.
 * @throws {TrustError} `ERR_METADATA_MALFORMED` for a non-integer or unsafe number.
 */
export function canonicalBytes(v: JsonValue): Uint8Array {
  return Buffer.from(canonicalString(v), 'utf8');
}
