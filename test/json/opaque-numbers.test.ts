/**
 * Inside a target's `custom` — data Notary keeps opaque — a number written `1.0` or `1e2` is the
 * integer Go's generic decoder reads, and the signed message holds that integer
 * (notary-rules.md §2.5, §5.3). Everywhere else only integer literals are numbers.
 */
import { describe, expect, it } from 'vitest';
import { integralValue, parseStrictJsonWithSpan } from '../../src/json/strict-parse.js';
import { canonicalString } from '../../src/json/canonical.js';
import type { JsonObject } from '../../src/json/strict-parse.js';

const PATH = ['signed', 'targets', '*', 'custom'];
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const parse = (s: string) => parseStrictJsonWithSpan(bytes(s), 'targets.json', 'signed', undefined, { opaquePath: PATH });

describe('integralValue', () => {
  it.each([
    ['1.0', 1],
    ['1e2', 100],
    ['1E+2', 100],
    ['2.50e1', 25],
    ['100e-2', 1],
    ['-3.000', -3],
    ['-0.0', 0],
    ['0e999999', 0],
    ['9007199254740991.0', 9007199254740991],
  ])('%s is exactly %d', (literal, n) => {
    expect(Object.is(integralValue(literal), n)).toBe(true);
  });

  it.each(['1.5', '1e-1', '1.0000000000000001', '9007199254740992.0', '1e16', '1e999999'])('%s is not exactly a safe integer', (literal) => {
    expect(integralValue(literal)).toBeUndefined();
  });
});

describe('numbers inside a target custom', () => {
  it('are read as the integer they equal, and the span is not taken as the message', () => {
    const { value, span } = parse('{"signed":{"targets":{"v1":{"custom":{"a":1.0,"b":[1e2,{"c":2.0}]},"length":1}}}}');
    const signed = (value as JsonObject)['signed'] as JsonObject;
    expect(canonicalString(signed)).toBe('{"targets":{"v1":{"custom":{"a":1,"b":[100,{"c":2}]},"length":1}}}');
    expect(span?.canonical).toBe(false);
  });

  it('the whole literal is read: several fraction digits, a signed exponent, several exponent digits', () => {
    // Each literal ends where a shorter reading (one fraction digit, an unsigned or one-digit
    // exponent) would stop early and leave the rest as data after the number.
    const { value } = parse('{"signed":{"targets":{"v1":{"custom":{"a":1.00,"b":1e+2,"c":1e10,"d":-2.000E+02}}}}}');
    const custom = ((((value as JsonObject)['signed'] as JsonObject)['targets'] as JsonObject)['v1'] as JsonObject)['custom'];
    expect(custom).toEqual({ a: 1, b: 100, c: 10_000_000_000, d: -200 });
  });

  it('a fraction that is not zero is still refused there', () => {
    expect(() => parse('{"signed":{"targets":{"v1":{"custom":{"a":1.5}}}}}')).toThrow(/1\.5 is not exactly a safe integer/);
  });

  it.each([
    ['a length', '{"signed":{"targets":{"v1":{"length":1.0}}}}'],
    ['a version', '{"signed":{"version":1.0}}'],
    ['custom outside a target', '{"signed":{"custom":{"a":1.0}}}'],
    ['a custom inside an array', '{"signed":{"targets":[{"custom":{"a":1.0}}]}}'],
    ['a custom member one level too deep', '{"signed":{"targets":{"v1":{"x":{"custom":1.0}}}}}'],
    ['the signatures', '{"signatures":[{"n":1.0}],"signed":{}}'],
  ])('stay refused anywhere else: %s', (_, text) => {
    expect(() => parse(text)).toThrow(/non-integer number/);
  });

  it('without the option, a custom 1.0 is refused as before', () => {
    expect(() => parseStrictJsonWithSpan(bytes('{"signed":{"targets":{"v1":{"custom":{"a":1.0}}}}}'), 't', 'signed')).toThrow(/non-integer number/);
  });
});
