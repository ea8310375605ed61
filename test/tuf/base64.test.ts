import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isCanonicalBase64 } from '../../src/tuf/base64.js';

/** Reference: the strict regex plus a decode/encode round trip. */
const reference = (s: string) =>
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s) && Buffer.from(s, 'base64').toString('base64') === s;

describe('isCanonicalBase64', () => {
  it('agrees with the decode/encode round trip on base64-like strings (property)', () => {
    const alphabet = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \né'.split(''));
    fc.assert(fc.property(fc.oneof(fc.string({ unit: alphabet, maxLength: 12 }), fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString('base64'))), (s) => {
      expect(isCanonicalBase64(s), JSON.stringify(s)).toBe(reference(s));
    }), { numRuns: 20000 });
  });

  it('refuses padding bits, URL-safe letters, line breaks and missing padding', () => {
    expect(isCanonicalBase64('YQ==')).toBe(true);
    for (const s of ['YR==', 'YU==', 'YWJ=', 'YQ', '-_==', 'YW\nJj', 'YWJj=', '====']) expect(isCanonicalBase64(s), s).toBe(false);
  });
});
