/**
 * The fast path of the strict parser. Notary writes metadata with no whitespace and `signed` in
 * canonical form, so one scan that proves the text is in that form — members in strictly
 * increasing code-point order below the top level (which also rules out duplicates), no escapes,
 * integers only — lets the native `JSON.parse` build the value safely. Anything the scan does
 * not prove sends the text to the full strict parser, which decides and explains.
 */
import { compareCodePointsAt } from './canonical-order.js';

export interface ScanResult {
  /** UTF-16 offsets of the value of the top-level member that was asked for, or -1. */
  spanStart: number;
  spanEnd: number;
  /** The member entries of `member.<indexed>`, when asked for and that value is an object. */
  entries?: MemberEntries;
}

/**
 * Where the members of one object sit in the text: a large map (a targets file's `targets`)
 * can then be checked and read one member at a time instead of being built whole.
 */
export interface MemberEntries {
  /** UTF-16 offsets of the object, from its `{` to just past its `}`. */
  start: number;
  end: number;
  /** Number of members. */
  count: number;
  /**
   * Two offsets per member, in text order (which the scan proved is strictly increasing code
   * point order of the names): the opening quote of its name, and just past its value. The name
   * has no escapes, so it is the text between that quote and the next one; the value starts two
   * units after that closing quote (`":`).
   */
  offsets: Uint32Array;
}

const isName = (text: string, start: number, end: number, name: string): boolean => end - start === name.length && text.startsWith(name, start);

/**
 * Returns the member span when `text` is a JSON object in Notary's written form, else
 * undefined. The scan checks the whole JSON grammar except raw control characters inside
 * strings: the caller either parses the text with `JSON.parse` (which refuses those) or tests
 * for them, and falls back to the strict parser on any doubt. With `indexed`, also locates the
 * members of the object `text[member][indexed]` (see {@link MemberEntries}), which the caller
 * may then never give to `JSON.parse`: the grammar checks here are all that stand for them.
 */
export function scanCanonical(text: string, member: string, maxDepth: number, indexed?: string): ScanResult | undefined {
  const n = text.length;
  let i = 0;
  let depth = 0;
  let spanStart = -1;
  let spanEnd = -1;
  let spanDepth = -1;
  // Per open container: is it an object, where its previous member name is (start, or -1 for
  // none, and end); the top-level name set. Names are compared in place: a slice per name
  // would make garbage in proportion to the file.
  const isObject: boolean[] = [];
  const prevStart: number[] = [];
  const prevEnd: number[] = [];
  const topKeys = new Set<string>();
  // What may come next: a member name (after `{` or `,` in an object), a value (at the start,
  // after `:`, after `[` or `,` in an array), or neither (after a value: `,` or a bracket).
  let expectKey = false;
  let needValue = true;
  // Position of the next backslash at or after the scan point; searched again only when
  // passed, so the whole scan stays linear.
  let nextBackslash = -1;
  // The indexed object: its depth while open (else -1), bounds, and member offsets so far.
  let indexDepth = -1;
  let indexStart = -1;
  let indexEnd = -1;
  let pendingIndex = false;
  let offsets = indexed === undefined ? new Uint32Array(0) : new Uint32Array(256);
  let count = 0;

  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      if (!expectKey && !needValue) return undefined;
      const close = text.indexOf('"', i + 1);
      if (close < 0) return undefined;
      if (nextBackslash !== n && nextBackslash <= i) {
        nextBackslash = text.indexOf('\\', i + 1);
        if (nextBackslash < 0) nextBackslash = n;
      }
      if (nextBackslash < close) return undefined; // escapes: leave to the strict parser
      if (expectKey) {
        const keyStart = i + 1;
        if (depth === 1) {
          const key = text.slice(keyStart, close);
          if (topKeys.has(key)) return undefined;
          topKeys.add(key);
        } else {
          const prev = prevStart[depth - 1] as number;
          if (prev >= 0 && compareCodePointsAt(text, prev, prevEnd[depth - 1] as number, keyStart, close) >= 0) return undefined;
          prevStart[depth - 1] = keyStart;
          prevEnd[depth - 1] = close;
        }
        expectKey = false;
        needValue = true;
        if (depth === indexDepth) {
          if (2 * count + 2 > offsets.length) {
            const grown = new Uint32Array(offsets.length * 2);
            grown.set(offsets);
            offsets = grown;
          }
          offsets[2 * count] = i;
        }
        i = close + 1;
        if (text.charCodeAt(i) !== 0x3a /* : */) return undefined;
        i++;
        if (depth === 1 && spanStart < 0 && isName(text, keyStart, close, member)) {
          spanStart = i;
          spanDepth = depth;
        }
        // `member` is open at depth 2 only inside the span (top-level names are unique).
        pendingIndex =
          depth === 2 && spanStart >= 0 && spanEnd < 0 && indexed !== undefined && text.charCodeAt(i) === 0x7b && isName(text, keyStart, close, indexed);
        continue;
      }
      i = close + 1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (!needValue) return undefined;
      if (++depth > maxDepth) return undefined;
      if (pendingIndex) {
        pendingIndex = false;
        indexDepth = depth;
        indexStart = i;
      }
      isObject[depth - 1] = c === 0x7b;
      prevStart[depth - 1] = -1;
      const empty = text.charCodeAt(i + 1) === (c === 0x7b ? 0x7d : 0x5d);
      expectKey = c === 0x7b && !empty;
      needValue = c === 0x5b && !empty;
      i++;
      continue;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      // A bracket right after `,` or `:` (`{"a":1,}`, `{"a":}`, `[1,]`) is not JSON.
      if (expectKey || needValue) return undefined;
      if (depth === 0 || isObject[depth - 1] !== (c === 0x7d)) return undefined;
      if (depth === indexDepth) {
        indexDepth = -1;
        indexEnd = i + 1;
      }
      depth--;
      i++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      if (!needValue) return undefined;
      // An integer, read in place: -?(0|[1-9][0-9]*), safe, not -0, no fraction or exponent.
      const negative = c === 0x2d;
      let j = negative ? i + 1 : i;
      const first = text.charCodeAt(j);
      let value = 0;
      if (first === 0x30) j++;
      else if (first >= 0x31 && first <= 0x39) {
        const from = j;
        for (let d = first; d >= 0x30 && d <= 0x39; d = text.charCodeAt(++j)) {
          // 17 digits are always beyond 2^53; up to 16, the sum is exact until it passes 2^53.
          if (j - from >= 16) return undefined;
          value = value * 10 + (d - 0x30);
        }
      } else return undefined;
      const next = text.charCodeAt(j);
      if (next === 0x2e || next === 0x65 || next === 0x45) return undefined; // fraction or exponent
      if ((negative && value === 0) || value > Number.MAX_SAFE_INTEGER) return undefined;
      i = j;
    } else if (c === 0x74 /* t */ || c === 0x66 /* f */ || c === 0x6e /* n */) {
      if (!needValue) return undefined;
      const word = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null';
      if (!text.startsWith(word, i)) return undefined;
      i += word.length;
    } else {
      return undefined; // whitespace or anything unexpected: not Notary's written form
    }
    // After a value: close the member span, then expect ',' or a closing bracket.
    needValue = false;
    if (spanStart >= 0 && spanEnd < 0 && depth === spanDepth) spanEnd = i;
    if (depth === indexDepth) offsets[2 * count++ + 1] = i;
    pendingIndex = false;
    const d = text.charCodeAt(i);
    if (d === 0x2c /* , */) {
      if (depth === 0) return undefined;
      if (isObject[depth - 1] === true) expectKey = true;
      else needValue = true;
      i++;
    } else if (d !== 0x7d && d !== 0x5d && !(depth === 0 && i === n)) {
      return undefined;
    }
  }
  if (depth !== 0 || needValue || expectKey) return undefined;
  if (indexEnd < 0) return { spanStart, spanEnd };
  // Exactly two offsets per member, not the growth spare.
  if (offsets.length !== 2 * count) offsets = offsets.slice(0, 2 * count);
  return { spanStart, spanEnd, entries: { start: indexStart, end: indexEnd, count, offsets } };
}
