/**
 * X.509 certificates as containers of public keys plus Notary's leaf policy
 * (`trustpinning/certs.go` + `tuf/utils/x509.go`, notary-rules.md §6 step 3 and §7.8.5).
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { readCertFacts, type CertFacts } from './der.js';
import { decodePemBlocks } from './pem.js';

export interface Certificate extends CertFacts {
  der: Uint8Array;
  x509: X509Certificate;
  isCA: boolean;
  publicKey: KeyObject;
}

/**
 * The certificate in the first PEM block of an x509 key's content — what Notary's verifiers and
 * delegation checks use (notary-rules.md §4.2, §7.8.5); `undefined` when there is none or it does not parse.
 */
export function firstPemCertificate(pem: Uint8Array): Certificate | undefined {
  const block = decodePemBlocks(Buffer.from(pem).toString('latin1'))[0];
  return block ? parseCertificate(block.der) : undefined;
}

/** Parses a DER certificate; `undefined` when it does not parse. */
export function parseCertificate(der: Uint8Array): Certificate | undefined {
  try {
    const x509 = new X509Certificate(der);
    const facts = readCertFacts(der);
    return { der, x509, isCA: x509.ca, publicKey: x509.publicKey, ...facts };
  } catch {
    return undefined;
  }
}

// Go's x509 SHA-1 signature algorithms, refused by Notary; MD2/MD5 refused by us as well
// (stricter than Notary, which does not list them).
const WEAK_SIGNATURE_ALGORITHMS = new Set([
  '1.2.840.113549.1.1.5', // sha1WithRSAEncryption
  '1.2.840.10040.4.3', // dsa-with-sha1
  '1.2.840.10045.4.1', // ecdsa-with-SHA1
  '1.3.14.3.2.29', // sha1WithRSA (OIW)
  '1.2.840.113549.1.1.4', // md5WithRSAEncryption
  '1.2.840.113549.1.1.2', // md2WithRSAEncryption
]);

const NOT_BEFORE_LEEWAY_MS = 24 * 60 * 60 * 1000;

/**
 * The checks every Notary certificate policy shares: validity window ordered, no SHA-1
 * signature, RSA keys of at least 2048 bits. Returns the reason it fails, or undefined.
 */
export function weakCertProblem(cert: Certificate): string | undefined {
  if (cert.notBefore.getTime() > cert.notAfter.getTime()) return 'NotBefore is after NotAfter';
  if (WEAK_SIGNATURE_ALGORITHMS.has(cert.signatureAlgorithm)) {
    return `signed with a weak algorithm (${cert.signatureAlgorithm})`;
  }
  if (cert.publicKey.asymmetricKeyType === 'rsa') {
    const bits = cert.publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) return `RSA key of ${bits} bits is shorter than 2048`;
  }
  return undefined;
}

/**
 * Validity as Notary checks root certificates: `now <= NotAfter` and
 * `NotBefore <= now + 1 day` (one day of leeway for clocks; notary-rules.md §6 step 3). Go's chain
 * verification (CA pinning) has no leeway: pass 0.
 */
export function validityProblem(cert: Certificate, now: Date, notBeforeLeewayMs = NOT_BEFORE_LEEWAY_MS): string | undefined {
  const t = now.getTime();
  if (t > cert.notAfter.getTime()) return `certificate expired at ${cert.notAfter.toISOString()}`;
  if (cert.notBefore.getTime() > t + notBeforeLeewayMs) {
    return `certificate is not valid before ${cert.notBefore.toISOString()}`;
  }
  return undefined;
}

/**
 * How long {@link validityProblem}'s answer for `cert` at `now` (same leeway) stays the same: the
 * instant before which it is certain not to change. A valid certificate: its NotAfter (1 ms early,
 * as role expiry is used). One not valid yet: the first instant it is (NotBefore less the leeway).
 * An expired one never changes: `Infinity`.
 */
export function validityHoldsUntil(cert: Certificate, now: Date, notBeforeLeewayMs = NOT_BEFORE_LEEWAY_MS): number {
  const validFrom = cert.notBefore.getTime() - notBeforeLeewayMs;
  if (now.getTime() < validFrom) return validFrom;
  return now.getTime() <= cert.notAfter.getTime() ? cert.notAfter.getTime() : Infinity;
}

/** Notary's CN rule: equal to the GUN, or a `*`-suffixed prefix of it (notary-rules.md §6 step 3). */
export function commonNameMatchesGun(cn: string, gun: string): boolean {
  if (cn === gun) return true;
  if (!cn.endsWith('*')) return false;
  return gun.startsWith(cn.replace(/\*+$/, ''));
}
