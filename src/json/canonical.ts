/**
 * Canonical JSON exactly as Notary signs and verifies it (docker/go `MarshalCanonical`, spec §5.1).
 *
 * - object members sorted by the UTF-8 bytes of their names (= code point order, which is not
 *   JavaScript's default UTF-16 order for supplementary-plane characters);
 * - strings escape only `"` and `\`; every other character, control characters included, is
 *   written raw;
 * - integers only, no exponent; `-0` is `0`.
 *
 * This is not RFC 8785 (JCS): see spec §5.3 for the inputs on which they differ.
 */
import { TrustError } from '../errors.js';
import type { JsonValue } from './strict-parse.js';

/** Compares two strings by code point, i.e. by their UTF-8 bytes. */
export function compareCodePoints(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      // Only when both units are in D800–FFFF can UTF-16 order disagree with code point
      // order: move surrogates above the rest of the BMP.
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

const NEEDS_ESCAPE = /["\\]/;

function encodeString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function encode(v: JsonValue, parts: string[]): void {
  if (v === null) {
    parts.push('null');
    return;
  }
  switch (typeof v) {
    case 'string':
      parts.push(encodeString(v));
      return;
    case 'boolean':
      parts.push(v ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isSafeInteger(v)) {
        throw new TrustError(
          'ERR_METADATA_MALFORMED',
          `canonical JSON has integers only, got ${String(v)}`,
          { check: 'canonical json' },
        );
      }
      parts.push(v === 0 ? '0' : String(v));
      return;
    case 'object':
      break;
    default:
      throw new TrustError('ERR_METADATA_MALFORMED', `cannot encode a ${typeof v} as JSON`, {
        check: 'canonical json',
      });
  }
  if (Array.isArray(v)) {
    parts.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) parts.push(',');
      encode(v[i] as JsonValue, parts);
    }
    parts.push(']');
    return;
  }
  const keys = Object.keys(v).sort(compareCodePoints);
  parts.push('{');
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    if (i > 0) parts.push(',');
    parts.push(encodeString(k), ':');
    encode(v[k] as JsonValue, parts);
  }
  parts.push('}');
}

/** The canonical JSON text of `v`. */
export function canonicalString(v: JsonValue): string {
  const parts: string[] = [];
  encode(v, parts);
  return parts.join('');
}

/**
 * The canonical JSON bytes of `v`, the exact message Notary signs.
 * @throws {TrustError} `ERR_METADATA_MALFORMED` for a non-integer or unsafe number.
 */
export function canonicalBytes(v: JsonValue): Uint8Array {
  return Buffer.from(canonicalString(v), 'utf8');
}
