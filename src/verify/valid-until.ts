/**
 * The instant until which a verification stays true for the same bytes: the earliest expiry of
 * every loaded role and of every root certificate (notary-rules.md §6 step 3: root certificates
 * must be within their validity; delegation certificates are not checked for expiry, §7.8.5).
 * A cache may reuse a {@link VerifiedRepository} for unchanged files at any `now` in
 * `[verifiedAt, validUntil)`.
 */
import { firstPemCertificate } from '../crypto/certificate.js';
import { decodeBase64 } from '../tuf/base64.js';
import type { VerifiedRepository } from './types.js';

/** The earliest expiry among the repository's roles and root certificates. */
export function validUntil(repo: VerifiedRepository): Date {
  let t = Math.min(repo.root.expiresAt.getTime(), repo.timestamp.expiresAt.getTime(), repo.snapshot.expiresAt.getTime());
  for (const role of repo.roles.values()) t = Math.min(t, role.expiresAt.getTime());
  for (const key of Object.values(repo.root.keys)) {
    if (!key.keytype.endsWith('-x509')) continue;
    const cert = firstPemCertificate(decodeBase64(key.keyval.public));
    if (cert !== undefined) t = Math.min(t, cert.notAfter.getTime());
  }
  return new Date(t);
}
