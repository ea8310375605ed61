/**
 * Identifiers the quarantine module derives: SHA-256 hex of a string and deterministic UUIDs.
 * Quarantine's own module on `node:crypto`, so that it does not depend on `src/crypto` (which
 * serves Notary verification); the architecture test allows this one exception.
 *
 * @module
 */
import * as nodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';

// One-shot hashing (Node ≥ 20.12) skips the Hash object; event ids are hashed on every emit.
const oneShot = (nodeCrypto as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;

/**
 * Lowercase hex SHA-256 of a string's UTF-8 bytes.
 *
 * @example
 * ```ts
 * sha256Hex('abc').length; // 64
 * ```
 */
export function sha256Hex(data: string): string {
  return oneShot ? oneShot('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

/** Hex digit (by char code) → the same nibble with its top two bits set to 10. */
const VARIANT: readonly string[] = (() => {
  const out: string[] = [];
  for (const c of '0123456789abcdef') out[c.charCodeAt(0)] = ((parseInt(c, 16) & 0x3) | 0x8).toString(16);
  return out;
})();

/**
 * A deterministic RFC 9562 version-8 UUID derived from a string.
 *
 * @example
 * ```ts
 * deterministicUuid('app@sha256:ab#1') === deterministicUuid('app@sha256:ab#1'); // true
 * ```
 */
export function deterministicUuid(key: string): string {
  // The first 16 bytes of SHA-256(key), with the version nibble set to 8 (byte 6 = 0x8?) and the
  // variant bits to 10 (byte 8 = 0b10??????), formatted 8-4-4-4-12.
  const x = sha256Hex(key);
  const variant = VARIANT[x.charCodeAt(16)] ?? '8';
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-8${x.slice(13, 16)}-${variant}${x.slice(17, 20)}-${x.slice(20, 32)}`;
}
