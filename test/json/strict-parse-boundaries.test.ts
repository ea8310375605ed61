/**
 * The strict parser's security boundaries one by one, as tables of real inputs: nesting depth at
 * its exact limit, the number grammar and the 2^53 edge, escapes and surrogate pairs at the edges
 * of the surrogate ranges, duplicate names (also spelled with escapes), whitespace, and the span
 * verdict the signature check reads (notary-rules.md §5.1, §14.1, §14.6–§14.8). Each input goes
 * through the strict parser (fast path off) and through the fast path; both must agree.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PARSE_LIMITS, decodeUtf8, parseStrictJson, parseStrictJsonText, parseStrictJsonWithSpan, integralValue, type JsonObject } from '../../src/json/strict-parse.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const slow = (s: string, maxDepth = 64) => parseStrictJsonWithSpan(bytes(s), 'x.json', 'signed', { maxDepth }, { fastPath: false });
const fast = (s: string, maxDepth = 64) => parseStrictJsonWithSpan(bytes(s), 'x.json', 'signed', { maxDepth });
const value = (s: string) => parseStrictJsonText(s, 'x.json');
const refused = (s: string, why?: RegExp) => {
  for (const run of [() => value(s), () => slow(s), () => fast(s)]) {
    let err: unknown;
    try {
      run();
    } catch (e) {
      err = e;
    }
    expect(err, s).toMatchObject({ name: 'TrustError', code: 'ERR_METADATA_MALFORMED', path: 'x.json', check: 'json syntax' });
    if (why) expect((err as Error).message, s).toMatch(why);
  }
};

describe('nesting depth: the limit itself passes, one more is refused', () => {
  const nest = (open: string, close: string, n: number) => open.repeat(n) + close.repeat(n);
  // [name, opening]
  it.each([
    ['arrays', '[', ']'],
    ['objects', '{"a":', '}'],
  ])('%s', (_, open) => {
    for (const limit of [1, 2, 64]) {
      const ok = open === '[' ? nest('[', ']', limit) : '{"a":'.repeat(limit - 1) + '{}' + '}'.repeat(limit - 1);
      const deep = open === '[' ? nest('[', ']', limit + 1) : '{"a":'.repeat(limit) + '{}' + '}'.repeat(limit);
      expect(() => slow(ok, limit), `${limit}: ${ok}`).not.toThrow();
      expect(() => fast(ok, limit), `${limit}: ${ok}`).not.toThrow();
      expect(() => slow(deep, limit), `${limit}: ${deep}`).toThrow(new RegExp(`nesting deeper than ${limit}`));
      expect(() => fast(deep, limit), `${limit}: ${deep}`).toThrow(new RegExp(`nesting deeper than ${limit}`));
    }
  });
  it('mixed arrays and objects count alike; the default limit is 64', () => {
    expect(DEFAULT_PARSE_LIMITS.maxDepth).toBe(64);
    const mixed = (n: number) => '[{"a":'.repeat(n / 2) + 'null' + '}]'.repeat(n / 2);
    expect(() => value(mixed(64))).not.toThrow();
    refused(mixed(66), /nesting deeper than 64/);
    expect(() => parseStrictJson(bytes('[[]]'), 'x.json', { maxDepth: 1 })).toThrow(/nesting deeper than 1/);
    expect(parseStrictJson(bytes('[]'), 'x.json', { maxDepth: 1 })).toEqual([]);
    expect(parseStrictJson(bytes('1'), 'x.json', { maxDepth: 0 })).toBe(1);
    expect(() => parseStrictJson(bytes('{}'), 'x.json', { maxDepth: 0 })).toThrow(/nesting deeper than 0/);
  });
});

describe('numbers: integers only, within ±(2^53 − 1)', () => {
  it.each([
    ['0', 0],
    ['-1', -1],
    ['10', 10],
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    ['1234567890123456', 1234567890123456],
  ])('%s is %d', (s, n) => {
    expect(value(s)).toBe(n);
    expect((slow(`{"signed":${s}}`).value as JsonObject)['signed']).toBe(n);
    expect((fast(`{"signed":${s}}`).value as JsonObject)['signed']).toBe(n);
  });
  it('-0 is 0, not negative zero, and is not canonical', () => {
    expect(Object.is(value('-0'), 0)).toBe(true);
    expect(Object.is((slow('{"signed":-0}').value as JsonObject)['signed'], 0)).toBe(true);
    expect(slow('{"signed":-0}').span?.canonical).toBe(false);
    expect(slow('{"signed":0}').span?.canonical).toBe(true);
    expect(slow('{"signed":[1,-1,10]}').span?.canonical).toBe(true);
  });
  it.each([
    ['9007199254740992', /beyond 2\^53/],
    ['-9007199254740992', /beyond 2\^53/],
    ['12345678901234567890', /beyond 2\^53/],
    ['1.0', /non-integer number 1\.0/],
    ['1e2', /non-integer/],
    ['1E2', /non-integer/],
    ['-1.5e-3', /non-integer/],
    ['0.0', /non-integer/],
    ['-', /invalid number/],
    ['-a', /invalid number/],
    ['01', /unexpected data/],
    ['-01', /unexpected data/],
    ['1.', /unexpected data/],
    ['1e', /unexpected data/],
    ['.5', /unexpected character/],
    ['+1', /unexpected character/],
    ['0x10', /unexpected data/],
    ['Infinity', /unexpected character/],
  ])('%s is refused', (s, why) => {
    refused(s, why);
    refused(`{"signed":${s}}`);
    refused(`{"signed":{"a":[${s}]}}`);
  });
});

describe('strings: escapes and surrogates', () => {
  it.each([
    ['"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\/\b\f\n\r\t'],
    ['"\\u0041\\u00e9\\u4E2D"', 'A\u00e9\u4e2d'],
    ['"\\u0000"', '\u0000'],
    ['"\\ud7ff"', '\ud7ff'],
    ['"\\ue000"', '\ue000'],
    ['"\\uffff"', '\uffff'],
    ['"\\ud800\\udc00"', '\u{10000}'],
    ['"\\udbff\\udfff"', '\u{10ffff}'],
    ['"\\uD83D\\uDE00"', '\u{1f600}'],
    ['"\\ud83d\\ude00x"', '\u{1f600}x'],
    ['"a\\u0041b\\nc"', 'aAb\nc'],
    ['" ~\u007f\u00a0"', ' ~\u007f\u00a0'],
    ['""', ''],
  ])('%s', (s, want) => {
    expect(value(s)).toBe(want);
    expect((slow(`{"signed":${s}}`).value as JsonObject)['signed']).toBe(want);
    expect((fast(`{"signed":${s}}`).value as JsonObject)['signed']).toBe(want);
  });
  it.each([
    ['"\\ud800"', /unpaired surrogate/],
    ['"\\udbff"', /unpaired surrogate/],
    ['"\\udc00"', /unpaired surrogate/],
    ['"\\udfff"', /unpaired surrogate/],
    ['"\\ud800\\ud800"', /unpaired surrogate/],
    ['"\\ud800\\udbff"', /unpaired surrogate/],
    ['"\\ud800\\ue000"', /unpaired surrogate/],
    ['"\\ud800\\u0041"', /unpaired surrogate/],
    ['"\\ud800x"', /unpaired surrogate/],
    ['"\\ud800\\udc0"', /unpaired surrogate/],
    ['"\\ud800\\n"', /unpaired surrogate/],
    ['"\\udc00\\ud800"', /unpaired surrogate/],
    ['"\\u12G4"', /invalid \\u escape/],
    ['"\\u123"', /invalid \\u escape/],
    ['"\\u-123"', /invalid \\u escape/],
    ['"\\u 123"', /invalid \\u escape/],
    ['"\\x41"', /invalid escape/],
    ["\"\\'\"", /invalid escape/],
    ['"\\U0041"', /invalid escape/],
    ['"\\', /invalid escape/],
    ['"abc', /unterminated string/],
    ['"a\\nbc', /unterminated string/],
    ['"\u001f"', /raw control character/],
    ['"\\n\u0000"', /raw control character/],
    ['"\u0009"', /raw control character/],
  ])('%s is refused', (s, why) => {
    refused(s, why);
    refused(`{"signed":{"a":${s}}}`);
  });
});

describe('objects: names, duplicates and separators', () => {
  it('a name an object inherits (toString, constructor) is no duplicate; __proto__ stays data', () => {
    expect(value('{"toString":1,"constructor":2,"hasOwnProperty":3}')).toEqual({ toString: 1, constructor: 2, hasOwnProperty: 3 });
    const v = value('{"a":1,"__proto__":{"b":2}}') as JsonObject;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['a', '__proto__']);
  });
  it.each([
    '{"a":1,"a":1}',
    '{"a":1,"\\u0061":2}',
    '{"\\u0061":1,"a":2}',
    '{"__proto__":1,"__proto__":2}',
    '{"":1,"":2}',
    '{"a":1,"b":2,"a":3}',
    '{"signed":{},"signed":{}}',
    '[{"x":{"y":1,"y":1}}]',
  ])('duplicate member: %s', (s) => {
    refused(s, /duplicate member/);
  });
  it.each([
    ['{"a" 1}', /expected ':'/],
    ['{"a":1 "b":2}', /expected ',' or '}'/],
    ['{"a":1,}', /expected a member name/],
    ['{,"a":1}', /expected a member name/],
    ['{1:2}', /expected a member name/],
    ['{"a":1', /expected ',' or '}'/],
    ['{"a"', /expected ':'/],
    ['[1 2]', /expected ',' or ']'/],
    ['[1,]', /unexpected character/],
    ['[,1]', /unexpected character/],
    ['[1', /expected ',' or ']'/],
    ['[', /unexpected end of data/],
    ['', /unexpected end of data/],
    ['tru', /unexpected character/],
    ['nul', /unexpected character/],
    ['falsey', /unexpected data after/],
    ['{}}', /unexpected data after/],
    ['\u000c{}', /unexpected character/],
    ['{}\u000b', /unexpected data after/],
    ['\u00a0{}', /unexpected character/],
  ])('%j is refused', (s, why) => {
    refused(s, why);
  });
  it('the four JSON whitespace characters are allowed anywhere between tokens', () => {
    for (const ws of [' ', '\t', '\n', '\r', ' \t\r\n ']) {
      const s = `${ws}{${ws}"a"${ws}:${ws}[${ws}1${ws},${ws}true${ws},${ws}null${ws}]${ws},${ws}"b"${ws}:${ws}{${ws}}${ws}}${ws}`;
      expect(value(s), JSON.stringify(s)).toEqual({ a: [1, true, null], b: {} });
      expect(value(`[${ws}]`)).toEqual([]);
    }
  });
  it('the error says where: the offset of the bad token', () => {
    expect(() => value('{"a":1,"a":2}')).toThrow('x.json: duplicate member "a" at offset 7');
    expect(() => value('[1 2]')).toThrow("x.json: expected ',' or ']' at offset 3");
    expect(() => value('"\\ud800x"')).toThrow('x.json: unpaired surrogate escape at offset 7');
    expect(() => value('"\\x"')).toThrow('x.json: invalid escape at offset 2');
    expect(() => value('"\\u12"')).toThrow('x.json: invalid \\u escape at offset 3');
    expect(() => value('"ab')).toThrow('x.json: unterminated string at offset 3');
    expect(() => value('"a\u0001"')).toThrow('x.json: raw control character in string at offset 2');
    expect(() => value('{"a" 1}')).toThrow("x.json: expected ':' at offset 5");
  });
});

describe('the span of `signed` and whether its bytes are canonical', () => {
  it.each([
    ['{"signed":{"a":1,"b":2}}', true],
    [' { "signed":{"a":1,"b":2} , "x" : 1 } ', true],
    ['{"x":{"b":1,"a":2},"signed":{}}', true],
    ['{"signed":{"b":1,"a":2}}', false],
    ['{"signed":{"a":{"d":1,"c":2}}}', false],
    ['{"signed":{"a": 1}}', false],
    ['{"signed":["\\u0041"]}', false],
    ['{"signed":"\\/"}', false],
    ['{"signed":"\\"\\\\"}', true],
    ['{"signed":{"\ufb01":1,"\u{1f600}":2}}', true],
    ['{"signed":{"\u{1f600}":1,"\ufb01":2}}', false],
    ['{"signed":{"\uffff":1,"\u{10000}":2}}', true],
    ['{"signed":{"\u{10000}":1,"\uffff":2}}', false],
    ['{"signed":{"a\ue000":1,"b":2}}', true],
    ['{"signed":{"b":1,"a\ue000":2}}', false],
    ['{"signed":{"\ue000":1,"\ue001":2}}', true],
    ['{"signed":{"\ue001":1,"\ue000":2}}', false],
  ])('%s: canonical %s', (s, canonical) => {
    const { span } = slow(s);
    expect(span?.canonical).toBe(canonical);
    const b = bytes(s);
    const text = Buffer.from(b.subarray(span?.start, span?.end)).toString('utf8');
    expect(JSON.parse(text)).toEqual(JSON.parse(s).signed);
    expect(text.startsWith('{') || text.startsWith('[') || text.startsWith('"')).toBe(true);
    expect(fast(s).span?.canonical ?? canonical).toBe(canonical);
  });
  it('no top-level `signed`: no span (one nested deeper does not count)', () => {
    expect(slow('{"x":{"signed":{}}}').span).toBeUndefined();
    expect(slow('[{"signed":{}}]').span).toBeUndefined();
    expect(fast('{"x":{"signed":{}}}').span).toBeUndefined();
  });
});

describe('UTF-8 and the byte order mark', () => {
  it('a BOM is refused by name, even alone; one inside a string is data', () => {
    expect(() => decodeUtf8(new Uint8Array([0xef, 0xbb, 0xbf]), 'x.json')).toThrow('x.json starts with a byte order mark');
    expect(() => decodeUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x31]), 'x.json')).toThrow('x.json starts with a byte order mark');
    expect(() => decodeUtf8(new Uint8Array([0xef, 0xbb]), 'x.json')).toThrow('x.json is not valid UTF-8');
    expect(() => decodeUtf8(new Uint8Array([0xee, 0xbb, 0xbf]), 'x.json')).not.toThrow();
    expect(decodeUtf8(new Uint8Array([0xef, 0xba, 0xbf]), 'x.json')).toBe('\ufebf');
    expect(decodeUtf8(new Uint8Array([0xef, 0xbb, 0xbe]), 'x.json')).toBe('\ufefe');
    expect(parseStrictJson(bytes('"\ufeff"'), 'x.json')).toBe('\ufeff');
  });
  it.each([
    ['a lone surrogate encoded (CESU)', [0x22, 0xed, 0xa0, 0x80, 0x22]],
    ['a code point above U+10FFFF', [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]],
    ['a truncated sequence', [0x22, 0xe4, 0xb8, 0x22]],
  ])('%s is refused', (_, b) => {
    expect(() => parseStrictJson(new Uint8Array(b), 'x.json')).toThrow(expect.objectContaining({ code: 'ERR_METADATA_MALFORMED', path: 'x.json' }));
  });
});

describe('integralValue edges (opaque data)', () => {
  it.each([
    ['1e15', 1e15],
    ['9.007199254740991e15', 9007199254740991],
    ['1230e-1', 123],
    ['0.0', 0],
    ['-0e5', 0],
    ['10.0e-1', 1],
    ['100', 100],
  ])('%s is %d', (s, n) => {
    expect(Object.is(integralValue(s), n)).toBe(true);
  });
  it.each(['9.007199254740992e15', '9999999999999999.0', '123e-1', '15e-1', '1.01', 'x', '1e', '--1'])('%s is none', (s) => {
    expect(integralValue(s)).toBeUndefined();
  });
});
