/** Pinning a GUN's root by public key, for the first fetch (`FetchPins.rootPublicKeys`). */
import { TrustError } from '../errors.js';
import { firstPemCertificate } from '../crypto/certificate.js';
import { decodePemBlocks } from '../crypto/pem.js';
import type { VerifiedRepository } from '../verify/types.js';

/** The pins for `gun`: an exact entry, else the longest `prefix*` entry that matches. */
function pinsFor(pins: Readonly<Record<string, readonly string[]>>, gun: string): readonly string[] | undefined {
  if (Object.hasOwn(pins, gun)) return pins[gun];
  let best: string | undefined;
  for (const k of Object.keys(pins)) {
    if (k.endsWith('*') && gun.startsWith(k.slice(0, -1)) && (best === undefined || k.length > best.length)) best = k;
  }
  return best === undefined ? undefined : pins[best];
}

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
  const wanted = pinsFor(pins, repo.gun);
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
