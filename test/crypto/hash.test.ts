/** Hash helpers against published test vectors (FIPS 180-2 "abc") and @noble/hashes. */
import { describe, expect, it } from 'vitest';
import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import { bytesEqual, digest, HASH_LENGTH, sha256Hex, SUPPORTED_HASHES } from '../../src/crypto/hash.js';

const abc = new Uint8Array(Buffer.from('abc'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('digest / sha256Hex', () => {
  it('FIPS 180-2 vectors for "abc"', () => {
    expect(hex(digest('sha256', abc))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(digest('sha512', abc))).toBe(
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    );
    expect(sha256Hex(abc)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('agrees with @noble/hashes on other lengths', () => {
    for (const n of [0, 55, 56, 64, 1000]) {
      const b = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff);
      expect(hex(digest('sha256', b))).toBe(hex(nobleSha256(b)));
      expect(hex(digest('sha512', b))).toBe(hex(nobleSha512(b)));
      expect(sha256Hex(b)).toBe(hex(nobleSha256(b)));
    }
  });
  it('names exactly the two algorithms Notary checks, with their lengths', () => {
    expect(SUPPORTED_HASHES).toEqual(['sha256', 'sha512']);
    expect(HASH_LENGTH).toEqual({ sha256: 32, sha512: 64 });
  });
});

describe('bytesEqual', () => {
  it.each([
    [[], [], true],
    [[1, 2, 3], [1, 2, 3], true],
    [[1, 2, 3], [1, 2, 4], false],
    [[1, 2, 3], [1, 2], false],
    [[1, 2], [1, 2, 3], false],
    [[], [0], false],
  ])('%j = %j is %s (never throws on different lengths)', (a, b, want) => {
    expect(bytesEqual(new Uint8Array(a), new Uint8Array(b))).toBe(want);
  });
});
