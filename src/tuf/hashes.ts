/**
 * Checks a file's raw bytes against the entry that refers to it (notary-rules.md §7.4, §7.5).
 */
import { TrustError } from '../errors.js';
import { bytesEqual, digest, HASH_LENGTH, SUPPORTED_HASHES } from '../crypto/hash.js';
import { decodeBase64 } from './base64.js';
import type { FileMetaJson } from './schema.js';

/**
 * Where a file's cap comes from: a fixed size limit (`VerifyLimits`), or the `length` that the
 * role referring to the file lists for it (snapshot for targets roles, timestamp for snapshot).
 */
export type SizeCap = 'size limit' | { referrer: string };

/** The one way a file over its cap is reported, whoever notices it first (notary-rules.md §7.4). */
export function fileTooLarge(role: string, actual: number, max: number, cap: SizeCap): TrustError {
  const because =
    cap === 'size limit'
      ? `more than the ${max}-byte size limit`
      : `more than the ${max} bytes ${cap.referrer}.json lists as its length`;
  return new TrustError('ERR_METADATA_TOO_LARGE', `${role}.json is ${actual} bytes, ${because}`, {
    role,
    check: cap === 'size limit' ? 'size limit' : `size cap from ${cap.referrer}`,
    expected: max,
    actual,
    path: `${role}.json`,
  });
}

/**
 * `length` is a size cap, never an exact size: a larger file is refused (notary-rules.md §7.4). Every
 * listed sha256/sha512 must match; other names are ignored; none at all is an error (notary-rules.md §7.5).
 * @throws {TrustError} `ERR_METADATA_TOO_LARGE`, `ERR_MISSING_HASHES` (also for no entry), `ERR_HASH_MISMATCH`
 */
export function checkFileAgainstMeta(bytes: Uint8Array, meta: FileMetaJson | undefined, role: string, referrer: string): void {
  // No entry at all is Notary's ErrMissingMeta too (notary-rules.md §7.5), not a crash on `undefined`.
  if (meta === undefined) {
    throw new TrustError('ERR_MISSING_HASHES', `${referrer} lists no entry for ${role}`, { role, check: `hashes from ${referrer}` });
  }
  if (bytes.length > meta.length) throw fileTooLarge(role, bytes.length, meta.length, { referrer });
  let checkedAny = false;
  for (const alg of SUPPORTED_HASHES) {
    if (!Object.hasOwn(meta.hashes, alg)) continue;
    const want = decodeBase64(meta.hashes[alg] as string);
    const got = digest(alg, bytes);
    if (!bytesEqual(want, got)) {
      throw new TrustError(
        'ERR_HASH_MISMATCH',
        `${alg} of ${role} does not match ${referrer}: expected ${Buffer.from(want).toString('hex')}, got ${Buffer.from(got).toString('hex')}`,
        {
          role,
          check: `${alg} hash from ${referrer}`,
          expected: Buffer.from(want).toString('hex'),
          actual: Buffer.from(got).toString('hex'),
        },
      );
    }
    checkedAny = true;
  }
  if (!checkedAny) {
    throw new TrustError('ERR_MISSING_HASHES', `${referrer} lists no sha256 or sha512 hash for ${role}`, {
      role,
      check: `hashes from ${referrer}`,
    });
  }
}

/**
 * Snapshot and timestamp structure (`IsValidSnapshotStructure`, `IsValidTimestampStructure`):
 * the named entries must carry a sha256, and every sha256/sha512 present must have the right
 * length. Returns the problem, or undefined.
 */
export function metaEntryProblem(meta: Readonly<Record<string, FileMetaJson>>, name: string): string | undefined {
  if (!Object.hasOwn(meta, name)) return `no entry for ${name}`;
  const entry = meta[name] as FileMetaJson;
  if (!Object.hasOwn(entry.hashes, 'sha256')) return `entry for ${name} has no sha256 hash`;
  for (const alg of SUPPORTED_HASHES) {
    if (!Object.hasOwn(entry.hashes, alg)) continue;
    const n = decodeBase64(entry.hashes[alg] as string).length;
    if (n !== HASH_LENGTH[alg]) return `${alg} hash for ${name} is ${n} bytes, expected ${HASH_LENGTH[alg]}`;
  }
  return undefined;
}
