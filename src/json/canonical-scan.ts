/**
 * The fast path of the strict parser. Notary writes metadata with no whitespace and `signed` in
 * canonical form, so one scan that proves the text is in that form — members in strictly
 * increasing code-point order below the top level (which also rules out duplicates), no escapes,
 * integers only — lets the native `JSON.parse` build the value safely. Anything the scan does
 * not prove sends the text to the full strict parser, which decides and explains.
 */
import { compareCodePoints } from './canonical-order.js';

export interface ScanResult {
  /** UTF-16 offsets of the value of the top-level member that was asked for, or -1. */
  spanStart: number;
  spanEnd: number;
}

const HIGH_UNITS = /[\ud800-\uffff]/;

/**
 * Returns the member span when `text` is a JSON object in Notary's written form, else
 * undefined. Does not check what `JSON.parse` itself refuses (raw control characters, bad
 * literals): the caller parses and falls back on any error.
 */
export function scanCanonical(text: string, member: string, maxDepth: number): ScanResult | undefined {
  const n = text.length;
  let i = 0;
  let depth = 0;
  let spanStart = -1;
  let spanEnd = -1;
  let spanDepth = -1;
  // Per open container: is it an object, the previous member name, the top-level name set.
  const isObject: boolean[] = [];
  const prevKey: (string | undefined)[] = [];
  const topKeys = new Set<string>();
  let expectKey = false;
  let pendingKey: string | undefined;
  // Position of the next backslash at or after the scan point; searched again only when
  // passed, so the whole scan stays linear.
  let nextBackslash = -1;

  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const close = text.indexOf('"', i + 1);
      if (close < 0) return undefined;
      if (nextBackslash !== n && nextBackslash <= i) {
        nextBackslash = text.indexOf('\\', i + 1);
        if (nextBackslash < 0) nextBackslash = n;
      }
      if (nextBackslash < close) return undefined; // escapes: leave to the strict parser
      if (expectKey) {
        const key = text.slice(i + 1, close);
        if (depth === 1) {
          if (topKeys.has(key)) return undefined;
          topKeys.add(key);
        } else {
          const prev = prevKey[depth - 1];
          if (prev !== undefined && (prev >= key || HIGH_UNITS.test(key) || HIGH_UNITS.test(prev)) && compareCodePoints(prev, key) >= 0) {
            return undefined;
          }
          prevKey[depth - 1] = key;
        }
        pendingKey = key;
        expectKey = false;
        i = close + 1;
        if (text.charCodeAt(i) !== 0x3a /* : */) return undefined;
        i++;
        if (depth === 1 && key === member && spanStart < 0) {
          spanStart = i;
          spanDepth = depth;
        }
        continue;
      }
      i = close + 1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) return undefined;
      isObject[depth - 1] = c === 0x7b;
      prevKey[depth - 1] = undefined;
      expectKey = c === 0x7b && text.charCodeAt(i + 1) !== 0x7d;
      i++;
      continue;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth === 0 || isObject[depth - 1] !== (c === 0x7d)) return undefined;
      depth--;
      i++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + (c === 0x2d ? 1 : 0);
      const first = text.charCodeAt(j);
      if (first === 0x30) j++;
      else if (first >= 0x31 && first <= 0x39) while (j < n && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) j++;
      else return undefined;
      const next = text.charCodeAt(j);
      if (next === 0x2e || next === 0x65 || next === 0x45) return undefined; // fraction or exponent
      const literal = text.slice(i, j);
      if (literal === '-0' || !Number.isSafeInteger(Number(literal))) return undefined;
      i = j;
    } else if (c === 0x74 /* t */ || c === 0x66 /* f */ || c === 0x6e /* n */) {
      const word = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null';
      if (!text.startsWith(word, i)) return undefined;
      i += word.length;
    } else {
      return undefined; // whitespace or anything unexpected: not Notary's written form
    }
    // After a value: close the member span, then expect ',' or a closing bracket.
    if (spanStart >= 0 && spanEnd < 0 && depth === spanDepth) spanEnd = i;
    pendingKey = undefined;
    const d = text.charCodeAt(i);
    if (d === 0x2c /* , */) {
      if (depth === 0) return undefined;
      expectKey = isObject[depth - 1] === true;
      i++;
    } else if (d !== 0x7d && d !== 0x5d && !(depth === 0 && i === n)) {
      return undefined;
    }
  }
  if (depth !== 0 || pendingKey !== undefined) return undefined;
  return { spanStart, spanEnd };
}
