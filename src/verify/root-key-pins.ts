/**
 * Pinning a GUN's root by public key (PEM), as Connaisseur's users configure it; the fetch applies
 * it to the first root of a GUN (`FetchPins.rootPublicKeys`). A rule of trust pinning, so it lives
 * beside the others and outer code reaches it through verify/.
 */
import { TrustError } from '../errors.js';
import { firstPemCertificate } from '../crypto/certificate.js';
import { decodePemBlocks } from '../crypto/pem.js';
import { gunEntry } from '../tuf/trust-pinning.js';
import type { VerifiedRepository } from './types.js';

function spkiOfPem(pem: string): Buffer {
  const block = decodePemBlocks(pem).find((b) => b.type === 'PUBLIC KEY');
  if (!block) throw new TrustError('ERR_INVALID_ARGUMENT', 'a pinned root public key is not a PEM "PUBLIC KEY" block');
  return Buffer.from(block.der);
}

/**
 * One of the root keys whose signatures counted must carry a pinned public key. Comparing the
 * signer (not any listed key) matters: a root listing the pinned key beside an attacker's, with
 * threshold 1, must not pass on the attacker's signature alone.
 * @throws {TrustError} `ERR_ROOT_PIN_MISMATCH`
 */
export function checkRootKeyPins(repo: VerifiedRepository, pins: Readonly<Record<string, readonly string[]>>): void {
  const wanted = gunEntry(pins, repo.gun);
  if (wanted === undefined) return;
  const pinned = wanted.map(spkiOfPem);
  for (const id of repo.root.signedBy) {
    const key = repo.root.keys[id];
    if (!key) continue;
    const cert = firstPemCertificate(Buffer.from(key.keyval.public, 'base64'));
    const spki = cert?.publicKey.export({ type: 'spki', format: 'der' });
    if (spki && pinned.some((p) => p.equals(spki))) return;
  }
  throw new TrustError('ERR_ROOT_PIN_MISMATCH', `no root key that signed the root of ${repo.gun} has a pinned public key`, {
    role: 'root',
    check: 'root public key pin',
    keyIds: repo.root.signedBy,
  });
}
