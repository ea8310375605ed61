/**
 * TUF key IDs (notary-rules.md §3.3), canonical key IDs of x509 keys (§3.5) and a cache of decoded public
 * keys so that each distinct key is parsed once per verification.
 */
import type { KeyObject } from 'node:crypto';
import { requireString } from '../arguments.js';
import { sha256Hex } from '../crypto/hash.js';
import { decodePemBlocks } from '../crypto/pem.js';
import { parseCertificate } from '../crypto/certificate.js';
import { decodePublicKey } from '../crypto/signature.js';
import { canonicalString } from '../json/canonical.js';
import { decodeBase64 } from './base64.js';
import { boundedMemo } from './memo.js';

/**
 * Notary's key ID: hex SHA-256 of the canonical JSON of
 * `{"keytype":…,"keyval":{"private":null,"public":…}}` (`TUFKey.ID`). `publicB64` must be
 * canonical base64 (the schema guarantees it), so it is hashed as written.
 */
export function tufKeyId(keytype: string, publicB64: string): string {
  requireString(keytype, 'keytype');
  requireString(publicB64, 'publicB64');
  return sha256Hex(canonicalString({ keytype, keyval: { private: null, public: publicB64 } }));
}

/**
 * The canonical key ID Notary and docker show for x509 keys: the ID of the bare SPKI key of
 * the first parsable, header-less CERTIFICATE block (`utils.CanonicalKeyID`). Other key types:
 * the key ID itself.
 */
export function canonicalKeyId(keytype: string, publicB64: string): string {
  requireString(keytype, 'keytype');
  requireString(publicB64, 'publicB64');
  if (keytype !== 'ecdsa-x509' && keytype !== 'rsa-x509') return tufKeyId(keytype, publicB64);
  const pem = Buffer.from(decodeBase64(publicB64)).toString('latin1');
  for (const block of decodePemBlocks(pem)) {
    if (block.type !== 'CERTIFICATE' || block.hasHeaders) continue;
    const cert = parseCertificate(block.der);
    if (!cert) continue;
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    const bare = cert.publicKey.asymmetricKeyType === 'rsa' ? 'rsa' : 'ecdsa';
    return tufKeyId(bare, spki.toString('base64'));
  }
  return tufKeyId(keytype, publicB64);
}

/** A key as a role lists it, with its computed ID and (lazily) its native public key. */
export interface ResolvedKey {
  /** ID computed from the content, which may differ from the ID the metadata lists it under. */
  readonly id: string;
  readonly keytype: string;
  readonly publicB64: string;
  /** The native key, or undefined when the content is not a usable key of `keytype`. */
  readonly native: NativeKey | undefined;
}

/** A usable public key and its identity. */
export interface NativeKey {
  readonly keyObject: KeyObject;
  /** DER SPKI fingerprint of the public key: the same key under two types or IDs counts once (notary-rules.md §14.3). */
  readonly fingerprint: string;
}

// Decoded keys are a pure function of (type, content): memoised process-wide (see memo.ts).
const SHARED = boundedMemo<ResolvedKey>(512);

/** Resolves keys by (type, content) for one verification run. */
export class KeyCache {
  readonly #byContent = new Map<string, ResolvedKey>();

  resolve(keytype: string, publicB64: string): ResolvedKey {
    const cacheKey = `${keytype}\u0000${publicB64}`;
    let k = this.#byContent.get(cacheKey);
    if (!k) {
      k = SHARED.get(cacheKey, () => {
        const keyObject = decodePublicKey(keytype, decodeBase64(publicB64));
        return Object.freeze({
          id: tufKeyId(keytype, publicB64),
          keytype,
          publicB64,
          native: keyObject && Object.freeze({ keyObject, fingerprint: sha256Hex(keyObject.export({ type: 'spki', format: 'der' })) }),
        });
      });
      this.#byContent.set(cacheKey, k);
    }
    return k;
  }
}
