/**
 * Notary's canonical JSON (spec §5): the table of §5.3, run through our strict parser and
 * encoder, and the real edge-scenario file whose stored `signed` bytes are HTML-escaped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalBytes, canonicalString, compareCodePoints } from '../../src/json/canonical.js';
import { parseStrictJsonText, type JsonValue } from '../../src/json/strict-parse.js';
import { scenario } from '../helpers/vectors.js';
import { integerJson } from '../helpers/arbitraries.js';

const enc = (text: string) => Buffer.from(canonicalBytes(parseStrictJsonText(text, 'test')));

describe('docker/go canonical encoding (spec §5.3 table)', () => {
  const rows: [string, string][] = [
    ['{"b":1,"a":2}', '{"a":2,"b":1}'],
    ['{"a":"<>&"}', '{"a":"<>&"}'],
    ['{"a":"\\u2028\\u2029"}', '{"a":"\u2028\u2029"}'],
    ['{"a":"\\u007f"}', '{"a":"\u007f"}'],
    ['{"a":"\\/"}', '{"a":"/"}'],
    ['{"a":"é\\u00e9\\ud83d\\ude00"}', '{"a":"éé😀"}'],
    ['{"a":"\\\\\\""}', '{"a":"\\\\\\""}'],
    // Control characters are written raw, unlike JCS (spec §14.4).
    ['{"a":"\\n\\t\\r\\u0001\\u001f"}', '{"a":"\n\t\r\u0001\u001f"}'],
    ['{"a":"\\b\\f"}', '{"a":"\b\f"}'],
    ['{"a":-0}', '{"a":0}'],
    ['{"a":9007199254740991}', '{"a":9007199254740991}'],
    // Code point order: U+FB01 (EF AC 81) sorts before U+1F600 (F0 9F 98 80); JCS puts 😀 first.
    ['{"\\ufb01":1,"\\ud83d\\ude00":2}', '{"ﬁ":1,"😀":2}'],
    ['[3,1,2]', '[3,1,2]'],
    ['{"z":{"y":[{"b":null,"a":true}]}}', '{"z":{"y":[{"a":true,"b":null}]}}'],
  ];
  for (const [input, want] of rows) {
    it(`${input} → ${JSON.stringify(want)}`, () => {
      expect(enc(input).toString('utf8')).toBe(want);
    });
  }

  it('refuses non-integers, which Notary cannot canonicalize', () => {
    expect(() => canonicalString({ a: 1.5 })).toThrow(expect.objectContaining({ code: 'ERR_METADATA_MALFORMED' }));
    expect(() => canonicalString({ a: Number.NaN })).toThrow(expect.objectContaining({ code: 'ERR_METADATA_MALFORMED' }));
    expect(() => canonicalString({ a: 2 ** 63 })).toThrow(expect.objectContaining({ code: 'ERR_METADATA_MALFORMED' }));
  });
});

describe('compareCodePoints', () => {
  it('orders like the UTF-8 bytes of the strings (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const bytes = Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
        expect(Math.sign(compareCodePoints(a, b))).toBe(bytes);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('round trip against JSON.parse for canonical texts (property)', () => {
  it('canonical output re-parses to the same value', () => {
    const json = integerJson('grapheme');
    fc.assert(
      fc.property(json, (v) => {
        const text = canonicalString(v);
        expect(canonicalString(parseStrictJsonText(JSON.stringify(v), 'p'))).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the edge scenario: stored bytes are HTML-escaped, the signature covers the raw form', () => {
  const s = scenario('edge');
  const raw = readFileSync(join(s.metadataDir, 'targets.json'), 'utf8');

  it('the file stores \\u003c, \\u003e, \\u0026 and \\u2028 escapes inside signed', () => {
    expect(raw).toContain('a\\u003cb\\u003e\\u0026c\\"d\\\\e/f\\u2028g');
  });

  it('re-canonicalizing the parsed value differs from the stored substring and contains the raw characters', () => {
    const doc = parseStrictJsonText(raw, 'targets.json') as { signed: JsonValue };
    const canonical = canonicalString(doc.signed);
    const stored = raw.slice('{"signed":'.length, raw.indexOf(',"signatures"'));
    expect(canonical).not.toBe(stored);
    expect(canonical).toContain('a<b>&c\\"d\\\\e/f\u2028g\u007fh ü');
  });
});

describe('canonicalString: what it refuses, and how', () => {
  it.each([
    [1.5, 'canonical JSON has integers only, got 1.5'],
    [Number.NaN, 'canonical JSON has integers only, got NaN'],
    [Number.POSITIVE_INFINITY, 'canonical JSON has integers only, got Infinity'],
    [2 ** 53, 'canonical JSON has integers only, got 9007199254740992'],
  ])('%s: ERR_METADATA_MALFORMED', (n, message) => {
    expect(() => canonicalString({ a: [n] })).toThrow(expect.objectContaining({ code: 'ERR_METADATA_MALFORMED', check: 'canonical json', message }));
  });
  it.each([
    [undefined, 'cannot encode undefined as JSON'],
    [() => 1, 'cannot encode a function as JSON'],
    [10n, 'cannot encode a bigint as JSON'],
    [Symbol('s'), 'cannot encode a symbol as JSON'],
  ])('%s: ERR_INVALID_ARGUMENT (only a caller of the public API can pass it)', (v, message) => {
    expect(() => canonicalString({ a: v } as unknown as JsonValue)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', check: 'canonical json', message }));
  });
  it('exact output for each kind of value', () => {
    expect(canonicalString(null)).toBe('null');
    expect(canonicalString(true)).toBe('true');
    expect(canonicalString(false)).toBe('false');
    expect(canonicalString(-0)).toBe('0');
    expect(canonicalString(-9007199254740991)).toBe('-9007199254740991');
    expect(canonicalString([])).toBe('[]');
    expect(canonicalString({})).toBe('{}');
    expect(canonicalString([[], {}, [1]])).toBe('[[],{},[1]]');
    expect(canonicalString({ 'a"b': 'c\\d', '': '' })).toBe('{"":"","a\\"b":"c\\\\d"}');
    expect(canonicalString({ b: 1, a: 2, '\u{1f600}': 3, '\uffff': 4 })).toBe('{"a":2,"b":1,"\uffff":4,"\u{1f600}":3}');
    expect(canonicalString({ '\u{1f600}': 1, B: 2, a: 3 })).toBe('{"B":2,"a":3,"\u{1f600}":1}');
    expect(Buffer.from(canonicalBytes({ é: '😀' })).toString('hex')).toBe(Buffer.from('{"é":"😀"}', 'utf8').toString('hex'));
  });
});
