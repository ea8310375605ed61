/** Code point order of strings — the order of their UTF-8 bytes, which Notary sorts keys by. */

/** Compares two strings by code point, i.e. by their UTF-8 bytes. */
export function compareCodePoints(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      // Only when both units are in D800–FFFF can UTF-16 order disagree with code point
      // order: move surrogates above the rest of the BMP.
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/**
 * {@link compareCodePoints} of `text.slice(a, aEnd)` and `text.slice(b, bEnd)`, without making
 * the slices (the canonical scan compares every member name of a file with the one before it).
 */
export function compareCodePointsAt(text: string, a: number, aEnd: number, b: number, bEnd: number): number {
  const la = aEnd - a;
  const lb = bEnd - b;
  const n = la < lb ? la : lb;
  for (let i = 0; i < n; i++) {
    let x = text.charCodeAt(a + i);
    let y = text.charCodeAt(b + i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return la - lb;
}
