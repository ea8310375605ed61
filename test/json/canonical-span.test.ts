/**
 * The fast path: when the stored `signed` bytes are already canonical, they are the message.
 * Whatever the stored form, the message must equal the canonical encoding of the parsed value.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalBytes, canonicalString } from '../../src/json/canonical.js';
import { parseStrictJsonWithSpan, type JsonObject, type JsonValue } from '../../src/json/strict-parse.js';
import { readDocument } from '../../src/tuf/document.js';
import { integerJson } from '../helpers/arbitraries.js';

const json = integerJson('binary');
const signedObject = fc.dictionary(fc.string({ unit: 'binary' }), json, { maxKeys: 5 });

function envelope(signedText: string): Uint8Array {
  return new Uint8Array(Buffer.from(`{"signed":${signedText},"signatures":[]}`, 'utf8'));
}

describe('message(): raw span when canonical, re-encoding otherwise', () => {
  it('for canonical stored text the span is canonical and equals the encoding', () => {
    fc.assert(
      fc.property(signedObject, (o) => {
        // canonicalString writes control characters raw, which JSON text cannot hold; escaping
        // them is a deviation the parser must notice.
        const text = canonicalString(o);
        const bytes = envelope(text.replace(/[\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
        const { value, span } = parseStrictJsonWithSpan(bytes, 'x', 'signed');
        const want = Buffer.from(canonicalBytes((value as JsonObject)['signed'] as JsonValue));
        expect(span?.canonical).toBe(!/[\u0000-\u001f]/.test(text));
        expect(Buffer.from(readDocument(bytes, 'targets').message()).equals(want)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it('for any other stored form (JSON.stringify order, whitespace, escapes) the message is still the canonical encoding', () => {
    fc.assert(
      fc.property(signedObject, fc.constantFrom(0, 1, 2), fc.boolean(), (o, indent, asciiEscape) => {
        let text = JSON.stringify(o, null, indent);
        if (asciiEscape) text = text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
        const bytes = envelope(text);
        const want = Buffer.from(canonicalBytes(o));
        expect(Buffer.from(readDocument(bytes, 'targets').message()).equals(want)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it('marks -0, \\/ and unsorted members as non-canonical', () => {
    for (const t of ['{"a":-0}', '{"a":"\\/"}', '{"b":1,"a":2}', '{"a": 1}', '{"a":"\\u0041"}']) {
      expect(parseStrictJsonWithSpan(envelope(t), 'x', 'signed').span?.canonical, t).toBe(false);
    }
    expect(parseStrictJsonWithSpan(envelope('{"a":"\\"\\\\","b":[1,-2,{"c":null}]}'), 'x', 'signed').span?.canonical).toBe(true);
  });

  it('byte offsets are right with multi-byte characters before and after the span', () => {
    const bytes = new Uint8Array(Buffer.from('{"é":"ü","signed":{"k":"😀"},"z":"ß"}', 'utf8'));
    const { span } = parseStrictJsonWithSpan(bytes, 'x', 'signed');
    expect(Buffer.from(bytes.subarray(span?.start, span?.end)).toString('utf8')).toBe('{"k":"😀"}');
  });
});
