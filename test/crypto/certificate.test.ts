/**
 * Notary's leaf policy on certificates built byte by byte (scripts/lib/notary-writer.mjs):
 * validity with one day of NotBefore leeway, weak signatures and short RSA keys, the CN rule
 * (notary-rules.md §6 step 3).
 */
import { describe, expect, it } from 'vitest';
import { commonNameMatchesGun, firstPemCertificate, parseCertificate, validityHoldsUntil, validityProblem, weakCertProblem, type Certificate } from '../../src/crypto/certificate.js';
// @ts-expect-error untyped mjs
import { ecKey, makeCert, oid, pem, rsaKey, seq, SIG_ALGS } from '../../scripts/lib/notary-writer.mjs';

const key = ecKey('certificate-test');
const cert = (opts: Record<string, unknown> = {}): Certificate => {
  const c = parseCertificate(makeCert({ cn: 'example.com/a/b', subjectKey: key, ...opts }));
  if (!c) throw new Error('test certificate does not parse');
  return c;
};
const at = (iso: string) => new Date(iso);
const DAY = 24 * 60 * 60 * 1000;

describe('validityProblem', () => {
  const c = cert({ notBefore: '2030-01-02T00:00:00Z', notAfter: '2030-06-01T00:00:00Z' });
  it('valid up to and including NotAfter, expired one millisecond later', () => {
    expect(validityProblem(c, at('2030-06-01T00:00:00Z'))).toBeUndefined();
    expect(validityProblem(c, new Date(at('2030-06-01T00:00:00Z').getTime() + 1))).toBe('certificate expired at 2030-06-01T00:00:00.000Z');
  });
  it('NotBefore may be up to one day ahead of now, not more', () => {
    expect(validityProblem(c, at('2030-01-01T00:00:00Z'))).toBeUndefined();
    expect(validityProblem(c, new Date(at('2030-01-01T00:00:00Z').getTime() - 1))).toBe('certificate is not valid before 2030-01-02T00:00:00.000Z');
    expect(validityProblem(c, at('2030-01-01T00:00:00Z'), 0)).toBe('certificate is not valid before 2030-01-02T00:00:00.000Z');
    expect(validityProblem(c, at('2030-01-02T00:00:00Z'), 0)).toBeUndefined();
    expect(validityProblem(c, new Date(at('2030-01-02T00:00:00Z').getTime() - DAY / 2), DAY / 2)).toBeUndefined();
  });
});

describe('validityHoldsUntil', () => {
  const c = cert({ notBefore: '2030-01-02T00:00:00Z', notAfter: '2030-06-01T00:00:00Z' });
  const ms = (iso: string) => Date.parse(iso);
  it('a valid certificate: until its NotAfter; one not valid yet: until NotBefore less the leeway; an expired one: for ever', () => {
    expect(validityHoldsUntil(c, at('2030-03-01T00:00:00Z'))).toBe(ms('2030-06-01T00:00:00Z'));
    expect(validityHoldsUntil(c, at('2030-06-01T00:00:00Z'))).toBe(ms('2030-06-01T00:00:00Z'));
    expect(validityHoldsUntil(c, new Date(ms('2030-06-01T00:00:00Z') + 1))).toBe(Infinity);
    expect(validityHoldsUntil(c, new Date(ms('2030-01-01T00:00:00Z') - 1))).toBe(ms('2030-01-01T00:00:00Z'));
    expect(validityHoldsUntil(c, at('2030-01-01T00:00:00Z'))).toBe(ms('2030-06-01T00:00:00Z'));
    expect(validityHoldsUntil(c, at('2030-01-01T00:00:00Z'), 0)).toBe(ms('2030-01-02T00:00:00Z'));
  });
  it('agrees with validityProblem on each side of every instant it returns', () => {
    for (const iso of ['2029-12-01T00:00:00Z', '2030-01-01T12:00:00Z', '2030-06-01T00:00:00Z', '2031-01-01T00:00:00Z']) {
      for (const leeway of [0, DAY]) {
        const now = at(iso);
        const until = validityHoldsUntil(c, now, leeway);
        const before = validityProblem(c, now, leeway) === undefined;
        if (Number.isFinite(until)) {
          expect(validityProblem(c, new Date(until - 1), leeway) === undefined, `${iso} ${leeway}`).toBe(before);
          expect(validityProblem(c, new Date(until + 1), leeway) === undefined, `${iso} ${leeway}`).toBe(!before);
        } else {
          expect(before).toBe(false);
        }
      }
    }
  });
});

describe('weakCertProblem', () => {
  it('a SHA-256 ECDSA certificate with an ordered window is fine', () => {
    expect(weakCertProblem(cert())).toBeUndefined();
  });
  it('NotBefore after NotAfter, ecdsa-with-SHA1 and RSA under 2048 bits are weak; 2048 is not', () => {
    expect(weakCertProblem(cert({ notBefore: '2031-01-01T00:00:00Z', notAfter: '2030-01-01T00:00:00Z' }))).toBe('NotBefore is after NotAfter');
    expect(weakCertProblem(cert({ notBefore: '2030-01-01T00:00:00Z', notAfter: '2030-01-01T00:00:00Z' }))).toBeUndefined();
    expect(weakCertProblem(cert({ alg: 'ecdsa-sha1' }))).toBe('signed with a weak algorithm (1.2.840.10045.4.1)');
    const r1024 = rsaKey(1024);
    const r2048 = rsaKey(2048);
    expect(weakCertProblem(cert({ subjectKey: r1024, issuerKey: r2048 }))).toBe('RSA key of 1024 bits is shorter than 2048');
    expect(weakCertProblem(cert({ subjectKey: r2048 }))).toBeUndefined();
  });
  it.each([
    ['sha1WithRSAEncryption', '1.2.840.113549.1.1.5', true],
    ['dsa-with-sha1', '1.2.840.10040.4.3', true],
    ['ecdsa-with-SHA1', '1.2.840.10045.4.1', true],
    ['sha1WithRSA (OIW)', '1.3.14.3.2.29', true],
    ['md5WithRSAEncryption', '1.2.840.113549.1.1.4', true],
    ['md2WithRSAEncryption', '1.2.840.113549.1.1.2', true],
    ['sha256WithRSAEncryption', '1.2.840.113549.1.1.11', false],
    ['ecdsa-with-SHA384', '1.2.840.10045.4.3.3', false],
  ])('a certificate whose signature algorithm is %s (%s): weak %s', (_, algOid, weak) => {
    // The algorithm is what the certificate says it is; the policy judges the name, not the bytes
    // of the signature (Go's x509 refuses SHA-1 and older by the algorithm identifier).
    const alg = `test-${algOid}`;
    SIG_ALGS[alg] = seq(oid(algOid));
    try {
      const c = cert({ alg });
      expect(c.signatureAlgorithm).toBe(algOid);
      expect(weakCertProblem(c)).toBe(weak ? `signed with a weak algorithm (${algOid})` : undefined);
    } finally {
      delete SIG_ALGS[alg];
    }
  });
});

describe('commonNameMatchesGun', () => {
  it('equal, or a * suffix whose prefix starts the GUN', () => {
    expect(commonNameMatchesGun('example.com/a/b', 'example.com/a/b')).toBe(true);
    expect(commonNameMatchesGun('example.com/a*', 'example.com/a/b')).toBe(true);
    expect(commonNameMatchesGun('example.com/a**', 'example.com/a/b')).toBe(true);
    expect(commonNameMatchesGun('*', 'example.com/a/b')).toBe(true);
    expect(commonNameMatchesGun('example.com/a', 'example.com/a/b')).toBe(false);
    expect(commonNameMatchesGun('example.com/a/b/*', 'example.com/a/b')).toBe(false);
    expect(commonNameMatchesGun('example.com/x*', 'example.com/a/b')).toBe(false);
    expect(commonNameMatchesGun('example.com/a/B', 'example.com/a/b')).toBe(false);
    expect(commonNameMatchesGun('*example.com/a/b', 'example.com/a/b')).toBe(false);
    // Only the trailing run of * is the wildcard; an earlier * is a literal character.
    expect(commonNameMatchesGun('example.com/*a*', 'example.com/*a/b')).toBe(true);
    expect(commonNameMatchesGun('example.com/*a*', 'example.com/a/b')).toBe(false);
  });
});

describe('parseCertificate, firstPemCertificate', () => {
  it('reads the CA flag and the key; undefined for bytes that are not a certificate', () => {
    expect(cert().isCA).toBe(false);
    expect(cert({ ca: true }).isCA).toBe(true);
    expect(cert().publicKey.asymmetricKeyType).toBe('ec');
    expect(parseCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).toBeUndefined();
  });
  it('the first PEM block only', () => {
    const a = makeCert({ cn: 'first', subjectKey: key });
    const b = makeCert({ cn: 'second', subjectKey: key, serial: 2 });
    expect(firstPemCertificate(new Uint8Array(Buffer.from(pem(a) + pem(b))))?.commonName).toBe('first');
    expect(firstPemCertificate(new Uint8Array(Buffer.from('no pem here')))).toBeUndefined();
  });
});
