/**
 * Signature threshold counting, exactly as Notary's `VerifySignatures` (notary-rules.md §4.4), plus the
 * one place we are stricter: a threshold counts distinct public keys, not key IDs (notary-rules.md §14.3).
 */
import { TrustError } from '../errors.js';
import { verifySignature } from '../crypto/signature.js';
import type { Envelope, TufKeyJson } from './schema.js';
import { decodeBase64 } from './base64.js';
import type { KeyCache } from './keys.js';

export interface RoleKeys {
  /** The role being verified, for messages. */
  role: string;
  /** Key IDs the role lists (duplicates count once). */
  keyIds: readonly string[];
  /** Where those IDs are looked up: root's `keys` or the parent's `delegations.keys`. */
  keys: Readonly<Record<string, TufKeyJson>>;
  threshold: number;
}

/**
 * Verifies `env` against `roleKeys` and returns the key IDs with a valid signature.
 * @throws {TrustError} `ERR_NO_SIGNATURES`, `ERR_INVALID_KEY_ID`, `ERR_THRESHOLD_NOT_MET`
 */
export function verifyThreshold(
  env: Envelope,
  message: Uint8Array,
  roleKeys: RoleKeys,
  cache: KeyCache,
): string[] {
  const { role, threshold } = roleKeys;
  if (env.signatures.length === 0) {
    throw new TrustError('ERR_NO_SIGNATURES', `${role} has no signatures`, {
      role,
      check: 'signatures',
    });
  }
  if (threshold < 1) {
    throw new TrustError('ERR_THRESHOLD_NOT_MET', `${role} has threshold ${threshold}; it must be at least 1`, {
      role,
      check: 'signature threshold',
      expected: 1,
      actual: threshold,
    });
  }
  const listed = new Set(roleKeys.keyIds);
  const validIds: string[] = [];
  const counted = new Set<string>();
  for (const s of env.signatures) {
    if (!listed.has(s.keyid) || !Object.hasOwn(roleKeys.keys, s.keyid)) continue;
    const json = roleKeys.keys[s.keyid] as TufKeyJson;
    const key = cache.resolve(json.keytype, json.keyval.public);
    if (key.id !== s.keyid) {
      // Notary aborts the whole role here rather than skipping the signature (notary-rules.md §3.4).
      throw new TrustError(
        'ERR_INVALID_KEY_ID',
        `${role}: a signature names key ${s.keyid}, but that key's content hashes to ${key.id}`,
        { role, check: 'key id', expected: s.keyid, actual: key.id },
      );
    }
    // A key already counted needs no second verification.
    const native = key.native;
    if (native === undefined || counted.has(native.fingerprint)) continue;
    if (!verifySignature(s.method, key.keytype, native.keyObject, message, decodeBase64(s.sig))) continue;
    counted.add(native.fingerprint);
    validIds.push(s.keyid);
  }
  if (counted.size < threshold) {
    throw new TrustError(
      'ERR_THRESHOLD_NOT_MET',
      `${role}: ${counted.size} valid signature${counted.size === 1 ? '' : 's'} from distinct keys, threshold is ${threshold}`,
      {
        role,
        check: 'signature threshold',
        expected: threshold,
        actual: counted.size,
        keyIds: [...listed],
      },
    );
  }
  return validIds;
}
