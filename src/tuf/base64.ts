/**
 * Standard, padded, canonical base64 — the only form Notary writes for `sig`, `keyval.public`
 * and hash values (Go `[]byte`, spec §2.1, §2.5). Anything else is refused (spec §14.2).
 */
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function isCanonicalBase64(s: string): boolean {
  if (!B64.test(s)) return false;
  // Reject non-zero padding bits, which decode the same as their canonical spelling.
  return Buffer.from(s, 'base64').toString('base64') === s;
}

export function decodeBase64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}
