/**
 * Standard, padded, canonical base64 — the only form Notary writes for `sig`, `keyval.public`
 * and hash values (Go `[]byte`, spec §2.1, §2.5). Anything else is refused (spec §14.2).
 */
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function isCanonicalBase64(s: string): boolean {
  if (s.length % 4 !== 0 || !B64.test(s)) return false;
  // The last character before padding must not carry bits the padding discards: `YQ==` is
  // canonical, `YR==` decodes the same and is not.
  if (s.endsWith('==')) return ALPHABET.indexOf(s.charAt(s.length - 3)) % 16 === 0;
  if (s.endsWith('=')) return ALPHABET.indexOf(s.charAt(s.length - 2)) % 4 === 0;
  return true;
}

export function decodeBase64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}
