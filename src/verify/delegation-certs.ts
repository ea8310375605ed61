/**
 * Delegation keys that are certificates get Notary's weak checks only — no expiry, no CN
 * (notary-rules.md §7.8.5): an expired delegation certificate is fine, a SHA-1 one, an RSA key
 * under 2048 bits or NotBefore after NotAfter is not.
 */
import { TrustError } from '../errors.js';
import { firstPemCertificate, weakCertProblem } from '../crypto/certificate.js';
import { decodeBase64 } from '../tuf/base64.js';
import { boundedMemo } from '../tuf/memo.js';
import type { TufKeyJson } from '../tuf/schema.js';

// Sibling delegations usually share keys, and a server verifies the same repositories again and
// again: parse each certificate once (the verdict depends on its bytes alone).
const DELEGATION_CERT_PROBLEMS = boundedMemo<string | undefined>(512);
const delegationCertProblem = (publicB64: string): string | undefined =>
  DELEGATION_CERT_PROBLEMS.get(publicB64, () => {
    const cert = firstPemCertificate(decodeBase64(publicB64));
    return cert ? weakCertProblem(cert) : undefined;
  });

/** @throws {TrustError} `ERR_DELEGATION_CERT_INVALID` */
export function checkDelegationCerts(role: string, keyIds: readonly string[], keys: Readonly<Record<string, TufKeyJson>>): void {
  for (const id of keyIds) {
    const k = keys[id];
    if (!k || !k.keytype.endsWith('-x509')) continue;
    const problem = delegationCertProblem(k.keyval.public);
    if (problem !== undefined) {
      throw new TrustError('ERR_DELEGATION_CERT_INVALID', `${role}: the certificate of key ${id} is not acceptable: ${problem}`, {
        role,
        check: 'delegation certificate',
        keyIds: [id],
      });
    }
  }
}
