/** Hashes over raw bytes (node:crypto, native) and a constant-time comparison. */
import { createHash, hash, timingSafeEqual } from 'node:crypto';

export type HashAlgorithm = 'sha256' | 'sha512';

/** The hash algorithms Notary checks; any other name in a `hashes` object is ignored (notary-rules.md §2.5). */
export const SUPPORTED_HASHES: readonly HashAlgorithm[] = ['sha256', 'sha512'];

export const HASH_LENGTH: Readonly<Record<HashAlgorithm, number>> = { sha256: 32, sha512: 64 };

export function digest(alg: HashAlgorithm, data: Uint8Array): Uint8Array {
  return createHash(alg).update(data).digest();
}

// One-shot hashing skips the Hash object: about 3× faster for short inputs such as key objects
// and event IDs. Every Node the package supports (engines: >= 20.19) has it (since 20.12).
export function sha256Hex(data: Uint8Array | string): string {
  return hash('sha256', data, 'hex');
}

/** Constant-time equality; different lengths are simply unequal (notary-rules.md §7.5). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
