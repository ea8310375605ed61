/**
 * Code-point order of member names (= the order of their UTF-8 bytes, which Notary sorts by,
 * notary-rules.md §5.1), at the edges where UTF-16 order disagrees: the surrogate block
 * D800–DFFF against E000–FFFF. The reference is Buffer.compare over the UTF-8 bytes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareCodePoints, compareCodePointsAt } from '../../src/json/canonical-order.js';

const sign = (n: number) => Math.sign(n);
const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
const at = (a: string, b: string) => {
  const text = `#${a}|${b}#`;
  return compareCodePointsAt(text, 1, 1 + a.length, 2 + a.length, 2 + a.length + b.length);
};

describe('compareCodePoints / compareCodePointsAt', () => {
  // [a, b, sign of a − b]
  const table: [string, string, number][] = [
    ['', '', 0],
    ['a', 'a', 0],
    ['a', 'b', -1],
    ['b', 'a', 1],
    ['a', 'ab', -1],
    ['ab', 'a', 1],
    ['', 'a', -1],
    ['\ud7ff', '\ue000', -1],
    ['\ud7ff', '\u{10000}', -1],
    ['\ue000', '\u{10000}', -1], // UTF-16: E000 > D800; by code point U+E000 < U+10000
    ['\u{10000}', '\ue000', 1],
    ['\uffff', '\u{10000}', -1],
    ['\u{10000}', '\uffff', 1],
    ['\ufb01', '\u{1f600}', -1],
    ['\u{1f600}', '\ufb01', 1],
    ['\u{10ffff}', '\uffff', 1],
    ['\u{1f600}', '\u{1f601}', -1],
    ['\u{1f600}', '\u{10000}', 1],
    ['x\ue000', 'x\u{10000}', -1],
    ['\ue000a', '\ue000b', -1],
  ];
  it.each(table)('%j vs %j: %i', (a, b, want) => {
    expect(sign(compareCodePoints(a, b))).toBe(want);
    expect(sign(at(a, b))).toBe(want);
    expect(sign(utf8Order(a, b))).toBe(want); // the table itself is right
  });

  it('lone surrogates sort as the surrogate block, above the BMP below E000 and below E000–FFFF', () => {
    // A lone D800 unit (the parser keeps what JSON.parse keeps) moves above FFFF like a pair does.
    expect(sign(compareCodePoints('\ud800', '\ue000'))).toBe(1);
    expect(sign(compareCodePoints('\ue000', '\ud800'))).toBe(-1);
    expect(sign(compareCodePoints('\udfff', '\uffff'))).toBe(1);
    expect(sign(compareCodePoints('\ud800', '\ud7ff'))).toBe(1);
    expect(sign(at('\ud800', '\ue000'))).toBe(1);
    expect(sign(at('\ue000', '\ud800'))).toBe(-1);
    expect(sign(at('\udfff', '\uffff'))).toBe(1);
  });

  it('agrees with UTF-8 byte order on well-formed strings (property)', () => {
    const s = fc.string({ unit: 'grapheme', maxLength: 4 });
    fc.assert(
      fc.property(s, s, (a, b) => {
        expect(sign(compareCodePoints(a, b))).toBe(sign(utf8Order(a, b)));
        expect(sign(at(a, b))).toBe(sign(utf8Order(a, b)));
      }),
      { numRuns: 3000 },
    );
  });
});
