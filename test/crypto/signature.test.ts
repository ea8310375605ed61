/**
 * verifySignature's own refusals, each shown with a signature that node:crypto itself accepts when
 * asked the wrong question, so the test fails if the refusal goes (notary-rules.md §3.4: the
 * method must match the key type; ECDSA is raw r‖s over SHA-256 on Go's curves).
 */
import { constants, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePublicKey, verifySignature } from '../../src/crypto/signature.js';
// @ts-expect-error untyped mjs
import { ecKey as writerEc, makeCert, pem, rsaKey } from '../../scripts/lib/notary-writer.mjs';

const MSG = new Uint8Array(Buffer.from('{"signed":"bytes"}'));

function ecKey(namedCurve: string): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve });
}

describe('verifySignature', () => {
  it('a method the key type does not allow never verifies, even when node:crypto would accept the bytes under it', () => {
    // A P-224 DER signature is 64 bytes about a quarter of the time: the length an eddsa signature has.
    const { publicKey, privateKey } = ecKey('secp224r1');
    let der = sign('sha256', MSG, privateKey);
    for (let i = 0; der.length !== 64 && i < 200; i++) der = sign('sha256', MSG, privateKey);
    expect(der.length).toBe(64);
    expect(verify(null, MSG, publicKey, der), 'node:crypto accepts it as a default-digest EC signature').toBe(true);
    expect(verifySignature('eddsa', 'ecdsa', publicKey, MSG, der)).toBe(false);
    const raw = sign('sha256', MSG, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    expect(verifySignature('ecdsa', 'ecdsa', publicKey, MSG, raw), 'the same key under its own method').toBe(true);
  });

  it('ECDSA on a curve Go cannot parse (secp256k1) never verifies, though the signature is good', () => {
    const { publicKey, privateKey } = ecKey('secp256k1');
    const raw = sign('sha256', MSG, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    expect(verify('sha256', MSG, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
    expect(verifySignature('ecdsa', 'ecdsa', publicKey, MSG, raw)).toBe(false);
  });

  it.each([
    ['prime256v1', 64],
    ['secp384r1', 96],
    ['secp521r1', 132],
    ['secp224r1', 56],
  ])('ECDSA on %s: only r‖s of exactly %i bytes verifies (not DER, not padded or cut)', (curve, size) => {
    const { publicKey, privateKey } = ecKey(curve);
    const raw = Buffer.from(sign('sha256', MSG, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
    expect(raw.length).toBe(size);
    expect(verifySignature('ecdsa', 'ecdsa', publicKey, MSG, raw)).toBe(true);
    for (const bad of [Buffer.concat([raw, Buffer.from([0])]), Buffer.concat([Buffer.from([0]), raw]), raw.subarray(0, size - 1), sign('sha256', MSG, privateKey)]) {
      expect(verifySignature('ecdsa', 'ecdsa', publicKey, MSG, bad), `${bad.length} bytes`).toBe(false);
    }
  });

  it('Ed25519: a 64-byte signature verifies; 63 or 65 bytes never do', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const sig = sign(null, MSG, privateKey);
    expect(verifySignature('eddsa', 'ed25519', publicKey, MSG, sig)).toBe(true);
    expect(verifySignature('eddsa', 'ed25519', publicKey, MSG, Buffer.concat([sig, Buffer.from([0])]))).toBe(false);
    expect(verifySignature('eddsa', 'ed25519', publicKey, MSG, sig.subarray(0, 63))).toBe(false);
  });

  it('both RSA paddings verify with a plain rsa key and with an rsa-x509 certificate key', () => {
    const k = rsaKey(2048);
    const certKey = decodePublicKey('rsa-x509', new Uint8Array(Buffer.from(pem(makeCert({ cn: 'rsa-signer', subjectKey: k })))));
    expect(certKey?.asymmetricKeyType).toBe('rsa');
    const pss = sign('sha256', MSG, { key: k.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    const pkcs1 = sign('sha256', MSG, k.privateKey);
    for (const [keytype, key] of [['rsa', createPublicKey(k.privateKey)], ['rsa-x509', certKey]] as const) {
      expect(verifySignature('rsapss', keytype, key as KeyObject, MSG, pss), `rsapss ${keytype}`).toBe(true);
      expect(verifySignature('rsapkcs1v15', keytype, key as KeyObject, MSG, pkcs1), `rsapkcs1v15 ${keytype}`).toBe(true);
      expect(verifySignature('rsapkcs1v15', keytype, key as KeyObject, MSG, pss), `a PSS signature under rsapkcs1v15 ${keytype}`).toBe(false);
    }
  });

  it('RSA under 2048 bits never verifies, by either padding; 2048 does', () => {
    for (const [bits, want] of [[1024, false], [2047, false], [2048, true]] as const) {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
      expect(verify('sha256', MSG, publicKey, sign('sha256', MSG, privateKey)), `node:crypto accepts ${bits} bits`).toBe(true);
      expect(verifySignature('rsapkcs1v15', 'rsa', publicKey, MSG, sign('sha256', MSG, privateKey)), `pkcs1 ${bits}`).toBe(want);
    }
  });
});

describe('decodePublicKey', () => {
  const spki = (k: KeyObject) => new Uint8Array(k.export({ type: 'spki', format: 'der' }));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  const ec = ecKey('prime256v1').publicKey;
  const ed = generateKeyPairSync('ed25519').publicKey;

  it('returns the key only under its own type: an RSA key is no ecdsa key and an EC key no rsa key', () => {
    expect(decodePublicKey('rsa', spki(rsa))?.asymmetricKeyType).toBe('rsa');
    expect(decodePublicKey('ecdsa', spki(ec))?.asymmetricKeyType).toBe('ec');
    expect(decodePublicKey('ecdsa', spki(rsa))).toBeUndefined();
    expect(decodePublicKey('rsa', spki(ec))).toBeUndefined();
    expect(decodePublicKey('rsa', spki(ed))).toBeUndefined();
  });

  it('an x509 type takes the certificate\'s key only when it is of that algorithm', () => {
    const ecCert = new Uint8Array(Buffer.from(pem(makeCert({ cn: 'ec', subjectKey: writerEc('sig-unit-ec') }))));
    const rsaCert = new Uint8Array(Buffer.from(pem(makeCert({ cn: 'rsa', subjectKey: rsaKey(2048) }))));
    expect(decodePublicKey('ecdsa-x509', ecCert)?.asymmetricKeyType).toBe('ec');
    expect(decodePublicKey('rsa-x509', rsaCert)?.asymmetricKeyType).toBe('rsa');
    expect(decodePublicKey('ecdsa-x509', rsaCert)).toBeUndefined();
    expect(decodePublicKey('rsa-x509', ecCert)).toBeUndefined();
    expect(decodePublicKey('rsa-x509', new Uint8Array(Buffer.from('no certificate here')))).toBeUndefined();
  });

  it('ed25519 takes exactly the 32 raw bytes; anything else, an unknown type or garbage is undefined', () => {
    const raw = new Uint8Array(Buffer.from(ed.export({ format: 'jwk' }).x as string, 'base64url'));
    expect(decodePublicKey('ed25519', raw)?.equals(ed)).toBe(true);
    expect(decodePublicKey('ed25519', raw.subarray(0, 31))).toBeUndefined();
    expect(decodePublicKey('ed25519', new Uint8Array([...raw, 0]))).toBeUndefined();
    expect(decodePublicKey('ed25519', spki(ed))).toBeUndefined();
    expect(decodePublicKey('dsa', spki(rsa))).toBeUndefined();
    expect(decodePublicKey('ecdsa', new Uint8Array([1, 2, 3]))).toBeUndefined();
  });
});
