/**
 * The one place signatures are checked (node:crypto, native OpenSSL). Mirrors Notary's verifier
 * table (`tuf/signed/verifiers.go`, notary-rules.md §4.2). A verifier answers true or false and never
 * throws: the caller turns "not enough valid signatures" into one typed error.
 */
import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { firstPemCertificate } from './certificate.js';

export type KeyType = 'ecdsa' | 'ecdsa-x509' | 'rsa' | 'rsa-x509' | 'ed25519';

export type SignatureMethod = 'ecdsa' | 'rsapss' | 'rsapkcs1v15' | 'eddsa';

/** Which key types each signature method may use (notary-rules.md §4.2). */
const METHOD_KEY_TYPES: Readonly<Record<SignatureMethod, readonly KeyType[]>> = {
  ecdsa: ['ecdsa', 'ecdsa-x509'],
  rsapss: ['rsa', 'rsa-x509'],
  rsapkcs1v15: ['rsa', 'rsa-x509'],
  eddsa: ['ed25519'],
};

/** The curves Go's x509 parses (P-224, P-256, P-384, P-521), by OpenSSL name. */
const GO_CURVES: ReadonlySet<string> = new Set(['secp224r1', 'prime256v1', 'secp384r1', 'secp521r1']);

/**
 * Turns `keyval.public` (already base64-decoded) into a native public key, or undefined when it
 * is not a usable key of that type. x509 types use the certificate in the first PEM block.
 */
export function decodePublicKey(keytype: string, raw: Uint8Array): KeyObject | undefined {
  try {
    switch (keytype) {
      case 'ecdsa':
      case 'rsa': {
        const k = createPublicKey({ key: Buffer.from(raw), format: 'der', type: 'spki' });
        return k.asymmetricKeyType === (keytype === 'ecdsa' ? 'ec' : 'rsa') ? k : undefined;
      }
      case 'ecdsa-x509':
      case 'rsa-x509': {
        const cert = firstPemCertificate(raw);
        const want = keytype === 'ecdsa-x509' ? 'ec' : 'rsa';
        return cert?.publicKey.asymmetricKeyType === want ? cert.publicKey : undefined;
      }
      case 'ed25519':
        // A JWK whose `x` is not 32 bytes is refused by node:crypto (caught below).
        return createPublicKey({
          key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
          format: 'jwk',
        });
    }
  } catch {
    // Content node:crypto cannot import is not a key; nor is one of an unknown type.
  }
  return undefined;
}

/**
 * Checks one signature. `method` is already lower-cased. Returns false for an unknown method,
 * a method/key-type mismatch, a wrong signature length, a short RSA key or a bad signature.
 */
export function verifySignature(
  method: string,
  keytype: string,
  key: KeyObject,
  message: Uint8Array,
  sig: Uint8Array,
): boolean {
  // `method` is attacker-chosen: "constructor" must not find Object.prototype's (found by fuzzing).
  if (!Object.hasOwn(METHOD_KEY_TYPES, method)) return false;
  const allowed = METHOD_KEY_TYPES[method as SignatureMethod];
  if (!(allowed as readonly string[]).includes(keytype)) return false;
  try {
    switch (method as SignatureMethod) {
      case 'ecdsa': {
        // Raw r‖s over SHA-256 on the curves Go parses; high S accepted (Go does not require low
        // S). node:crypto's ieee-p1363 decoding refuses any length but twice the curve's size.
        if (!GO_CURVES.has(key.asymmetricKeyDetails?.namedCurve ?? '')) return false;
        return verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, sig);
      }
      case 'rsapss':
      case 'rsapkcs1v15': {
        if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return false;
        const pss = method === 'rsapss';
        return verify(
          'sha256',
          message,
          pss
            ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
            : { key, padding: constants.RSA_PKCS1_PADDING },
          sig,
        );
      }
      case 'eddsa':
        // node:crypto refuses an Ed25519 signature of any length but 64.
        return verify(null, message, key, sig);
    }
  } catch {
    // node:crypto throws on input it cannot use: not a valid signature.
  }
  return false;
}
