/**
 * The fast path (canonical scan + JSON.parse) must give exactly what the strict parser gives:
 * the same value, the same span, the same verdict on canonical form, or the same refusal.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalString } from '../../src/json/canonical.js';
import { DEFAULT_PARSE_LIMITS, parseStrictJsonWithSpan, type JsonValue } from '../../src/json/strict-parse.js';
import { scanCanonical } from '../../src/json/canonical-scan.js';
import { integerJson } from '../helpers/arbitraries.js';

function both(text: string) {
  const bytes = new Uint8Array(Buffer.from(text, 'utf8'));
  const run = (fast: boolean) => {
    try {
      return { ok: parseStrictJsonWithSpan(bytes, 'x', 'signed', DEFAULT_PARSE_LIMITS, { fastPath: fast }) };
    } catch (e) {
      return { err: (e as { code?: string }).code };
    }
  };
  return { fast: run(true), slow: run(false) };
}

const escapeControls = (t: string) => t.replace(/[\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Text edits that break canonical form or validity in the ways that matter. */
const edits: ((t: string, at: number) => string)[] = [
  (t) => t,
  (t, at) => t.slice(0, at) + ' ' + t.slice(at),
  (t, at) => t.slice(0, at) + t.slice(at + 1),
  (t) => t.replace(/"([^"\\]*)":/, '"$1":1,"$1":'),
  (t) => t.replace(/(\{"signed":\{)"([^"\\]*)":/, '$1"$2":0,"$2":'),
  (t) => t.replace(/:(\d+)/, ':-0'),
  (t) => t.replace(/:(\d+)/, ':$1.0'),
  (t) => t.replace(/:(\d+)/, ':9007199254740993'),
  (t) => t.replace(/"([^"\\]+)"/, '"\\u0041$1"'),
  (t) => t.replace(/\{"([^"\\]*)":([^,{}[\]]*),"([^"\\]*)":/, '{"$3":$2,"$1":'),
];

describe('canonical scan fast path ≡ strict parser', () => {
  it('agrees on canonical envelopes and their edits (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'binary' }), integerJson('binary'), { maxKeys: 5 }),
        fc.nat(),
        fc.nat({ max: edits.length - 1 }),
        (signed, at, e) => {
          const base = `{"signed":${escapeControls(canonicalString(signed as JsonValue))},"signatures":[{"keyid":"ab","method":"ecdsa","sig":"AA=="}]}`;
          const text = (edits[e] as (t: string, at: number) => string)(base, at % base.length);
          const { fast, slow } = both(text);
          expect(fast).toEqual(slow);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('takes the fast path for Notary-written files and reports a canonical span', () => {
    const text = '{"signed":{"_type":"Targets","targets":{"a":{"hashes":{"sha256":"AA=="},"length":1}},"version":2},"signatures":[]}';
    expect(scanCanonical(text, 'signed', 64)).toEqual({ spanStart: 10, spanEnd: text.indexOf(',"signatures"') });
  });

  it('leaves to the strict parser: whitespace, escapes, unsorted or duplicate members, floats, -0, deep nesting', () => {
    for (const t of [
      '{"signed": {}}',
      '{"signed":{"a":"\\u003c"}}',
      '{"signed":{"b":1,"a":2}}',
      '{"signed":{"a":1,"a":1}}',
      '{"signed":{},"signed":{}}',
      '{"signed":{"a":1.5}}',
      '{"signed":{"a":-0}}',
      '{"signed":' + '['.repeat(70) + ']'.repeat(70) + '}',
    ]) {
      expect(scanCanonical(t, 'signed', 64), t).toBeUndefined();
    }
  });

  it('code-point order, not UTF-16 order: U+FB01 before U+1F600 passes, the reverse does not', () => {
    expect(scanCanonical('{"signed":{"\ufb01":1,"\u{1f600}":2}}', 'signed', 64)).toBeDefined();
    expect(scanCanonical('{"signed":{"\u{1f600}":1,"\ufb01":2}}', 'signed', 64)).toBeUndefined();
  });

  it('checks the whole JSON grammar on its own (the indexed targets never reach JSON.parse)', () => {
    for (const t of [
      '{"signed":{"a":1,}}',
      '{"signed":{"a":}}',
      '{"signed":[1,]}',
      '{"signed":{"a":1,2}}',
      '{"signed":{1}}',
      '{"signed":{"a":1,{}}}',
      '{"signed":{"a":1,true}}',
      '{"signed":{"a":1,[]}}',
      '{"signed":{"a":1,"b"}}',
      '{"signed":["a":1]}',
      '{"signed":[1 2]}',
      '{"signed":{"a":1}}}',
      '{"signed":{"a":12345678901234567}}',
      '{"signed":{"a":9007199254740992}}',
      '{"signed":{"a":-9007199254740992}}',
      '',
      '{',
    ]) {
      expect(scanCanonical(t, 'signed', 64, 'a'), t).toBeUndefined();
    }
    expect(scanCanonical('{"signed":{"a":9007199254740991,"b":-9007199254740991}}', 'signed', 64)).toBeDefined();
  });

  it('whatever it accepts, JSON.parse accepts: structural edits of canonical envelopes (property)', () => {
    const pieces = [',', ':', '{', '}', '[', ']', '"', '1', '-', 'true', '"x":', ',"y":2', '{}', '[]'];
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'grapheme-ascii' }), integerJson('grapheme'), { maxKeys: 5 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), fc.constantFrom(...pieces)), { minLength: 1, maxLength: 3 }),
        (signed, edits) => {
          let text = `{"signed":${canonicalString(signed as JsonValue)},"signatures":[]}`;
          for (const [at, drop, piece] of edits) {
            const p = at % (text.length + 1);
            text = text.slice(0, p) + piece + text.slice(p + drop);
          }
          if (/[\u0000-\u001f]/.test(text)) return;
          if (scanCanonical(text, 'signed', 64, 'targets') !== undefined) expect(() => JSON.parse(text), text).not.toThrow();
        },
      ),
      { numRuns: 20000 },
    );
  });
});

