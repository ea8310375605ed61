/**
 * The instant until which a verification stays true for the same bytes: the earliest expiry of
 * every loaded role, and the earliest instant at which a certificate of a root key changes its
 * validity (notary-rules.md §6 step 3: the leaf must be within its validity, and an intermediate
 * that is not is dropped from the rebuilt key, which changes the key's ID so that the same
 * signatures stop matching; delegation certificates are not checked for expiry, §7.8.5).
 * A cache may reuse a {@link VerifiedRepository} for unchanged files at any `now` in
 * `[verifiedAt, validUntil)`.
 */
import { validityHoldsUntil } from '../crypto/certificate.js';
import { rootKeyCertificates } from '../tuf/root.js';
import type { TufKeyJson } from '../tuf/schema.js';
import type { VerifiedRepository } from './types.js';

/** The earliest expiry among the repository's roles and the certificates of its root keys. */
export function validUntil(repo: VerifiedRepository): Date {
  let t = Math.min(repo.root.expiresAt.getTime(), repo.timestamp.expiresAt.getTime(), repo.snapshot.expiresAt.getTime());
  for (const role of repo.roles.values()) t = Math.min(t, role.expiresAt.getTime());
  // A verified root has a root role whose keys are all in `keys` (notary-rules.md §2.3).
  for (const id of (repo.root.roles['root'] as { keyids: readonly string[] }).keyids) {
    for (const cert of rootKeyCertificates(repo.root.keys[id] as TufKeyJson)) t = Math.min(t, validityHoldsUntil(cert, repo.verifiedAt));
  }
  return new Date(t);
}
