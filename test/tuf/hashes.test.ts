/** A file against the entry that refers to it (notary-rules.md §7.4, §7.5), and snapshot/timestamp entry structure. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkFileAgainstMeta, fileTooLarge, metaEntryProblem } from '../../src/tuf/hashes.js';
import { expectTrustError } from '../helpers/vectors.js';

const bytes = new Uint8Array(Buffer.from('{"signed":{}}'));
const h = (alg: string, b: Uint8Array | string) => createHash(alg).update(b).digest('base64');
const entry = (extra: Record<string, string> = {}, length = bytes.length) => ({ hashes: { sha256: h('sha256', bytes), sha512: h('sha512', bytes), ...extra }, length });

describe('checkFileAgainstMeta', () => {
  it('passes with every listed hash right and the length as a cap', () => {
    expect(() => checkFileAgainstMeta(bytes, entry(), 'targets', 'snapshot')).not.toThrow();
    expect(() => checkFileAgainstMeta(bytes, entry({}, bytes.length + 1), 'targets', 'snapshot')).not.toThrow();
    expect(() => checkFileAgainstMeta(bytes, { hashes: { sha512: h('sha512', bytes) }, length: bytes.length }, 'targets', 'snapshot')).not.toThrow();
  });

  it('a file one byte over the cap is too large, with the cap and the size', () => {
    const e = expectTrustError(() => checkFileAgainstMeta(bytes, entry({}, bytes.length - 1), 'targets', 'snapshot'), 'ERR_METADATA_TOO_LARGE', 'targets');
    expect(e).toMatchObject({ expected: bytes.length - 1, actual: bytes.length, check: 'size cap from snapshot', path: 'targets.json' });
  });

  it('every sha256/sha512 listed must match; other names are ignored', () => {
    const e = expectTrustError(() => checkFileAgainstMeta(bytes, entry({ sha512: h('sha512', 'x') }), 'targets', 'snapshot'), 'ERR_HASH_MISMATCH', 'targets');
    expect(e).toMatchObject({ check: 'sha512 hash from snapshot', actual: createHash('sha512').update(bytes).digest('hex') });
    expectTrustError(() => checkFileAgainstMeta(bytes, entry({ sha256: h('sha256', 'x') }), 'targets', 'snapshot'), 'ERR_HASH_MISMATCH', 'targets');
    expect(() => checkFileAgainstMeta(bytes, entry({ md5: 'AAAA' }), 'targets', 'snapshot')).not.toThrow();
  });

  it('no supported hash, or no entry at all, is ERR_MISSING_HASHES for the role (a TrustError, not a TypeError)', () => {
    const none = expectTrustError(() => checkFileAgainstMeta(bytes, { hashes: { md5: 'AAAA' }, length: 99 }, 'targets/a', 'snapshot'), 'ERR_MISSING_HASHES', 'targets/a');
    expect(none).toMatchObject({ check: 'hashes from snapshot' });
    const missing = expectTrustError(() => checkFileAgainstMeta(bytes, undefined, 'root', 'snapshot'), 'ERR_MISSING_HASHES', 'root');
    expect(missing).toMatchObject({ check: 'hashes from snapshot' });
  });
});

describe('fileTooLarge', () => {
  it('names the cap it broke', () => {
    expect(fileTooLarge('timestamp', 10, 5, 'size limit')).toMatchObject({ code: 'ERR_METADATA_TOO_LARGE', role: 'timestamp', check: 'size limit', expected: 5, actual: 10 });
    expect(fileTooLarge('snapshot', 10, 5, { referrer: 'timestamp' }).check).toBe('size cap from timestamp');
  });
});

describe('metaEntryProblem', () => {
  const meta = { snapshot: entry() };
  it('wants the entry, a sha256, and the right length for every sha256/sha512 present', () => {
    expect(metaEntryProblem(meta, 'snapshot')).toBeUndefined();
    expect(metaEntryProblem(meta, 'root')).toBe('no entry for root');
    expect(metaEntryProblem({ snapshot: { hashes: { sha512: h('sha512', bytes) }, length: 1 } }, 'snapshot')).toBe('entry for snapshot has no sha256 hash');
    expect(metaEntryProblem({ snapshot: entry({ sha256: Buffer.alloc(31).toString('base64') }) }, 'snapshot')).toBe('sha256 hash for snapshot is 31 bytes, expected 32');
    expect(metaEntryProblem({ snapshot: entry({ sha512: Buffer.alloc(32).toString('base64') }) }, 'snapshot')).toBe('sha512 hash for snapshot is 32 bytes, expected 64');
    expect(metaEntryProblem({ snapshot: entry({ md5: 'AAAA' }) }, 'snapshot')).toBeUndefined();
  });
});
