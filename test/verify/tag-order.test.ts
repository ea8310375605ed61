/**
 * `naturalCompare` (src/verify/tag-order.ts), the one order `resolveReference` and `trustgate
 * inspect` choose "the first tag" by: digit runs as numbers (fewer leading zeros first on a tie),
 * other bytes of the UTF-8 form one by one, digits before anything else. Pinned by hand-picked
 * pairs and against a reference written here from that description (tokens, BigInt values).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { naturalCompare } from '../../src/verify/tag-order.js';

/** The description above, as tokens: digit runs and single bytes of the UTF-8 form. */
function reference(a: string, b: string): number {
  const tokens = (s: string) => Buffer.from(s, 'utf8').toString('latin1').match(/[0-9]+|[^0-9]/g) ?? [];
  const x = tokens(a);
  const y = tokens(b);
  for (let k = 0; k < Math.min(x.length, y.length); k++) {
    const p = x[k] as string;
    const q = y[k] as string;
    const dp = /^[0-9]/.test(p);
    const dq = /^[0-9]/.test(q);
    if (dp !== dq) return dp ? -1 : 1;
    if (!dp) {
      if (p !== q) return p.charCodeAt(0) - q.charCodeAt(0);
      continue;
    }
    const vp = BigInt(p);
    const vq = BigInt(q);
    if (vp !== vq) return vp < vq ? -1 : 1;
    if (p.length !== q.length) return p.length - q.length; // same value: fewer leading zeros first
  }
  return x.length - y.length;
}

const sign = (n: number) => Math.sign(n);

describe('naturalCompare', () => {
  it('hand-picked pairs: each is ordered, both ways', () => {
    const ascending: [string, string][] = [
      ['', 'a'],
      ['1', 'a'],
      ['1', '!'], // digits before every other character, even those below '0'
      ['9', ':'],
      ['A', 'a'],
      ['a', 'b'],
      ['a', 'ab'],
      ['v1', 'v1a'],
      ['v1', 'v2'],
      ['v2', 'v10'],
      ['v9', 'v10'],
      ['v12', 'v13'],
      ['v1', 'v01'],
      ['v01', 'v001'],
      ['0', '00'],
      ['v1', 'v1.0'],
      ['1.9', '1.10'],
      ['v2a', 'v10a'],
      ['v1a', 'v1b'],
      ['v1b', 'v01a'], // the zeros decide at their run, before what follows
      ['x1y2', 'x1y10'],
      ['99999999999999999998', '99999999999999999999'],
      ['z', 'é'],
      ['\uFF21', '\u{1F600}'], // UTF-8 byte order, not UTF-16 code units
    ];
    for (const [lo, hi] of ascending) {
      expect(sign(naturalCompare(lo, hi)), `${lo} < ${hi}`).toBe(-1);
      expect(sign(naturalCompare(hi, lo)), `${hi} > ${lo}`).toBe(1);
    }
    for (const same of ['', 'v1', '007', 'a1b2', 'é😀']) expect(naturalCompare(same, same)).toBe(0);
  });

  it('sorts a list of tags as docker lists them', () => {
    const tags = ['v10', 'v9', 'v1', 'v01', 'latest', '1.10', '1.9', '10', '2', 'a', 'A', 'v1a', 'v1-rc'];
    expect([...tags].sort(naturalCompare)).toEqual(['1.9', '1.10', '2', '10', 'A', 'a', 'latest', 'v1', 'v1-rc', 'v1a', 'v01', 'v9', 'v10']);
  });

  it('agrees in sign with the reference on random tags', () => {
    const ch = fc.constantFrom('0', '0', '1', '2', '9', 'a', 'b', 'A', '-', '.', '!', 'é', '😀');
    const tag = fc.array(ch, { maxLength: 8 }).map((a) => a.join(''));
    fc.assert(
      fc.property(tag, tag, (a, b) => {
        expect(sign(naturalCompare(a, b)), `${a} vs ${b}`).toBe(sign(reference(a, b)));
      }),
      { numRuns: 2000 },
    );
  });
});
