/** The strict parser refuses what JSON.parse lets through and Notary misreads (spec §14). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseStrictJson, parseStrictJsonText } from '../../src/json/strict-parse.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const malformed = expect.objectContaining({ code: 'ERR_METADATA_MALFORMED' });

describe('parseStrictJson', () => {
  const bad: [string, string | Uint8Array][] = [
    ['duplicate member (Notary merges maps, §14.1)', '{"targets":{},"targets":{"x":1}}'],
    ['nested duplicate', '{"a":{"b":1,"b":2}}'],
    ['byte order mark', new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d])],
    ['invalid UTF-8 (§14.6)', new Uint8Array([0x22, 0xff, 0x22])],
    ['overlong UTF-8', new Uint8Array([0x22, 0xc0, 0xaf, 0x22])],
    ['fraction', '{"version":1.0}'],
    ['exponent', '{"version":1e0}'],
    ['integer beyond 2^53', '{"length":9007199254740993}'],
    ['lone high surrogate escape', '"\\ud800"'],
    ['lone low surrogate escape', '"\\udc00"'],
    ['raw control character', '"a\u0001b"'],
    ["\\' escape (Notary refuses it, §14.7)", "\"\\'\""],
    ['trailing comma', '{"a":1,}'],
    ['trailing data', '{} {}'],
    ['truncated', '{"signed":{"_type":"Root"'],
    ['leading zero', '01'],
    ['NaN', 'NaN'],
    ['empty input', ''],
    ['single quotes', "{'a':1}"],
  ];
  for (const [name, input] of bad) {
    it(`refuses ${name}`, () => {
      expect(() => parseStrictJson(typeof input === 'string' ? bytes(input) : input, 'x.json')).toThrow(malformed);
    });
  }

  it('refuses nesting deeper than the limit, without overflowing the stack', () => {
    expect(() => parseStrictJsonText('['.repeat(65) + ']'.repeat(65), 'x')).toThrow(malformed);
    expect(() => parseStrictJsonText('['.repeat(100_000), 'x')).toThrow(malformed);
    expect(parseStrictJsonText('['.repeat(64) + ']'.repeat(64), 'x')).toBeDefined();
  });

  it('keeps __proto__ as plain data', () => {
    const v = parseStrictJsonText('{"__proto__":{"polluted":1}}', 'x') as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ polluted: 1 });
  });

  it('agrees with JSON.parse on every value JSON.stringify writes from integers and strings (property)', () => {
    const onlySafeIntegers = (v: unknown): boolean =>
      typeof v === 'number'
        ? Number.isSafeInteger(v)
        : v !== null && typeof v === 'object'
          ? Object.values(v).every(onlySafeIntegers)
          : true;
    const value = fc.jsonValue().filter(onlySafeIntegers);
    fc.assert(
      fc.property(value, (v) => {
        const text = JSON.stringify(v);
        expect(JSON.stringify(parseStrictJsonText(text, 'p'))).toBe(JSON.stringify(JSON.parse(text)));
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws anything but a TrustError on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          parseStrictJson(b, 'fuzz');
        } catch (e) {
          expect(e).toMatchObject({ name: 'TrustError', code: 'ERR_METADATA_MALFORMED' });
        }
      }),
      { numRuns: 3000 },
    );
  });
});
