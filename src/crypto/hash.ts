/** Hashes over raw bytes (node:crypto, native) and a constant-time comparison. */
import { createHash, timingSafeEqual } from 'node:crypto';

export type HashAlgorithm = 'sha256' | 'sha512';

/** The hash algorithms Notary checks; any other name in a `hashes` object is ignored (spec §2.5). */
export const SUPPORTED_HASHES: readonly HashAlgorithm[] = ['sha256', 'sha512'];

export const HASH_LENGTH: Readonly<Record<HashAlgorithm, number>> = { sha256: 32, sha512: 64 };

export function digest(alg: HashAlgorithm, data: Uint8Array): Uint8Array {
  return createHash(alg).update(data).digest();
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256Bytes(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Constant-time equality; different lengths are simply unequal (spec §7.5). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
