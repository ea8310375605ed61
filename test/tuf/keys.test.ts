/**
 * Canonical key IDs of x509 keys (notary-rules.md §3.5, Notary `utils.CanonicalKeyID`): the ID of
 * the bare key in the first header-less, parsable CERTIFICATE block; other key types keep their ID.
 */
import { describe, expect, it } from 'vitest';
import { canonicalKeyId, KeyCache, tufKeyId } from '../../src/tuf/keys.js';
// @ts-expect-error untyped mjs
import { ecKey, makeCert, pem, rsaKey } from '../../scripts/lib/notary-writer.mjs';

const ec = ecKey('canonical-id-ec');
const other = ecKey('canonical-id-other');
const b64 = (text: string) => Buffer.from(text).toString('base64');
const certPem = (key: { spki: Buffer }, cn = 'x') => pem(makeCert({ cn, subjectKey: key })) as string;
const bareId = (key: { spki: Buffer }, type: string) => tufKeyId(type, key.spki.toString('base64'));

describe('canonicalKeyId', () => {
  it('ecdsa-x509 and rsa-x509: the ID of the certificate key as a bare ecdsa or rsa key', () => {
    expect(canonicalKeyId('ecdsa-x509', b64(certPem(ec)))).toBe(bareId(ec, 'ecdsa'));
    const rsa = rsaKey(2048);
    expect(canonicalKeyId('rsa-x509', b64(certPem(rsa)))).toBe(bareId(rsa, 'rsa'));
    expect(canonicalKeyId('ecdsa-x509', b64(certPem(ec)))).not.toBe(tufKeyId('ecdsa-x509', b64(certPem(ec))));
  });

  it('other key types keep their own ID', () => {
    expect(canonicalKeyId('ecdsa', ec.json.keyval.public)).toBe(tufKeyId('ecdsa', ec.json.keyval.public));
    expect(canonicalKeyId('ed25519', 'AAAA')).toBe(tufKeyId('ed25519', 'AAAA'));
    // Even when the listed content happens to be a certificate PEM: only x509 types are unwrapped.
    expect(canonicalKeyId('ecdsa', b64(certPem(ec)))).toBe(tufKeyId('ecdsa', b64(certPem(ec))));
  });

  it('skips blocks of another type, with headers, or that do not parse, and takes the next certificate', () => {
    const withHeaders = certPem(other).replace('-----BEGIN CERTIFICATE-----\n', '-----BEGIN CERTIFICATE-----\nX-Note: skip me\n\n');
    const garbled = '-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n';
    const otherType = certPem(other).replaceAll('CERTIFICATE', 'X509 CERTIFICATE');
    for (const first of [withHeaders, garbled, otherType]) {
      expect(canonicalKeyId('ecdsa-x509', b64(first + certPem(ec)))).toBe(bareId(ec, 'ecdsa'));
    }
    // The first usable certificate wins over later ones.
    expect(canonicalKeyId('ecdsa-x509', b64(certPem(ec) + certPem(other)))).toBe(bareId(ec, 'ecdsa'));
  });

  it('no usable certificate: the ID of the key as listed', () => {
    const pub = b64('-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n');
    expect(canonicalKeyId('ecdsa-x509', pub)).toBe(tufKeyId('ecdsa-x509', pub));
    expect(canonicalKeyId('rsa-x509', b64('no pem'))).toBe(tufKeyId('rsa-x509', b64('no pem')));
  });
});

describe('KeyCache', () => {
  it('resolves a key once per content, with its computed ID and fingerprint; a broken key has neither object nor fingerprint', () => {
    const cache = new KeyCache();
    const a = cache.resolve('ecdsa', ec.json.keyval.public);
    expect(cache.resolve('ecdsa', ec.json.keyval.public)).toBe(a);
    expect(a.id).toBe(tufKeyId('ecdsa', ec.json.keyval.public));
    expect(a.native?.keyObject.asymmetricKeyType).toBe('ec');
    // The same key as a certificate has another ID but the same fingerprint.
    const wrapped = cache.resolve('ecdsa-x509', b64(certPem(ec)));
    expect(wrapped.id).not.toBe(a.id);
    expect(wrapped.native?.fingerprint).toBe(a.native?.fingerprint);
    expect(a.native?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const broken = cache.resolve('ecdsa', b64('not a key'));
    expect(broken.native).toBeUndefined();
  });
});
