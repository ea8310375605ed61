/**
 * Standard, padded, canonical base64 — the only form Notary writes for `sig`, `keyval.public`
 * and hash values (Go `[]byte`, notary-rules.md §2.1, §2.5). Anything else is refused (notary-rules.md §14.2).
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Value of each base64 character + 1 (0: not in the alphabet). */
const VALUE = new Uint8Array(128);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i + 1;

export function isCanonicalBase64(s: string): boolean {
  return isCanonicalBase64At(s, 0, s.length);
}

/** {@link isCanonicalBase64} of `s.slice(from, to)`, without making the slice. */
export function isCanonicalBase64At(s: string, from: number, to: number): boolean {
  const n = to - from;
  if (n % 4 !== 0) return false;
  let end = to;
  if (n > 0 && s.charCodeAt(to - 1) === 0x3d) end -= s.charCodeAt(to - 2) === 0x3d ? 2 : 1;
  for (let i = from; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || VALUE[c] === 0) return false;
  }
  // The last character before padding must not carry bits the padding discards: `YQ==` is
  // canonical, `YR==` decodes the same and is not.
  const last = end === to ? 0 : (VALUE[s.charCodeAt(end - 1)] as number) - 1;
  return end === to || (to - end === 2 ? last % 16 === 0 : last % 4 === 0);
}

export function decodeBase64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}
