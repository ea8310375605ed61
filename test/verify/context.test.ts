/**
 * The checks at the verifier's edge (src/verify/context.ts): the options a run starts from, and
 * reading one file through the caller's source (notary-rules.md §7.4: caps named by their origin).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrustError } from '../../src/errors.js';
import { verifyRepository } from '../../src/verify/repository.js';
import { caught, VECTORS } from '../helpers/vectors.js';

const BASE = join(VECTORS, 'generated', 'base-valid', 'metadata');
const GUN = 'example.com/trustgate/repo';
const NOW = new Date('2030-01-01T00:00:00Z');
const file = (r: string) => {
  try {
    return new Uint8Array(readFileSync(join(BASE, `${r}.json`)));
  } catch {
    return undefined;
  }
};
const base = { gun: GUN, now: NOW, source: file };

describe('verifyRepository options', () => {
  it('each bad option is ERR_INVALID_ARGUMENT naming it', () => {
    const cases: [unknown, RegExp][] = [
      [null, /options object/],
      ['x', /options object/],
      [{ ...base, gun: '' }, /gun/],
      [{ ...base, gun: 5 }, /gun/],
      [{ ...base, now: new Date(Number.NaN) }, /now/],
      [{ ...base, now: NOW.getTime() }, /now/],
      [{ ...base, source: {} }, /source/],
      [{ ...base, mode: 'lenient' }, /mode must be strict or online-equivalent, got lenient/],
      [{ ...base, trustedState: { gun: 'other/repo', root: '{}', versions: {} } }, /trusted state is for other\/repo, not example.com\/trustgate\/repo/],
    ];
    for (const [opts, message] of cases) {
      const e = caught(() => verifyRepository(opts as never));
      expect(e, JSON.stringify(opts)).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      expect(String(e['message'])).toMatch(message);
    }
  });

  it('both modes are accepted and reported; the clock is copied, so the caller changing its Date changes nothing', () => {
    expect(verifyRepository({ ...base, mode: 'online-equivalent' }).mode).toBe('online-equivalent');
    const now = new Date(NOW.getTime());
    const repo = verifyRepository({ ...base, now });
    expect(repo.mode).toBe('strict');
    now.setFullYear(1999);
    expect(repo.verifiedAt.getTime()).toBe(NOW.getTime());
    expect(repo.verifiedAt).not.toBe(now);
  });
});

describe('reading a file through the source', () => {
  it('a missing file is ERR_METADATA_NOT_FOUND naming the role and file', () => {
    expect(caught(() => verifyRepository({ ...base, source: (r) => (r === 'timestamp' ? undefined : file(r)) }))).toMatchObject({
      code: 'ERR_METADATA_NOT_FOUND',
      role: 'timestamp',
      check: 'file present',
      path: 'timestamp.json',
    });
  });

  it('the source is asked with the cap that applies, and a longer answer is ERR_METADATA_TOO_LARGE', () => {
    const asked: [string, number][] = [];
    verifyRepository({ ...base, limits: { maxRootBytes: 50_000, maxTimestampBytes: 4_000 }, source: (r, max) => (asked.push([r, max]), file(r)) });
    const snapshotLength = (JSON.parse(Buffer.from(file('timestamp') as Uint8Array).toString()) as { signed: { meta: { snapshot: { length: number } } } }).signed.meta.snapshot.length;
    expect(asked.slice(0, 3)).toEqual([['root', 50_000], ['timestamp', 4_000], ['snapshot', snapshotLength]]);
    const padded = (r: string) => (r === 'snapshot' ? Buffer.concat([file(r) as Uint8Array, Buffer.from(' ')]) : file(r));
    expect(caught(() => verifyRepository({ ...base, source: padded }))).toMatchObject({ code: 'ERR_METADATA_TOO_LARGE', role: 'snapshot', expected: snapshotLength, actual: snapshotLength + 1 });
  });

  it("a source that refuses a file as too large itself: the report names the verifier's cap", () => {
    const refusing = (r: string, max: number) => {
      if (r === 'timestamp') throw new TrustError('ERR_METADATA_TOO_LARGE', 'file too big', { role: 'timestamp', actual: max + 10 });
      return file(r);
    };
    const e = caught(() => verifyRepository({ ...base, limits: { maxTimestampBytes: 1234 }, source: refusing }));
    expect(e).toMatchObject({ code: 'ERR_METADATA_TOO_LARGE', role: 'timestamp', expected: 1234, actual: 1244 });
    expect(e['message']).not.toBe('file too big');
    // Any other error of the source is passed on as it is.
    const other = new TrustError('ERR_TRUST_DIR_UNREADABLE', 'disk', { role: 'timestamp' });
    expect(caught(() => verifyRepository({ ...base, source: (r) => { if (r === 'timestamp') throw other; return file(r); } }))).toBe(other);
    const wrongRole = new TrustError('ERR_METADATA_TOO_LARGE', 'big', { role: 'snapshot', actual: 99 });
    expect(caught(() => verifyRepository({ ...base, source: (r) => { if (r === 'timestamp') throw wrongRole; return file(r); } }))).toBe(wrongRole);
    const noSize = new TrustError('ERR_METADATA_TOO_LARGE', 'big', { role: 'timestamp' });
    expect(caught(() => verifyRepository({ ...base, source: (r) => { if (r === 'timestamp') throw noSize; return file(r); } }))).toBe(noSize);
    // Only the too-large code is rewritten: another TrustError, or a look-alike that is no TrustError, with the role and a size, passes on.
    const otherSized = new TrustError('ERR_TRUST_DIR_UNREADABLE', 'disk', { role: 'timestamp', actual: 99 });
    expect(caught(() => verifyRepository({ ...base, source: (r) => { if (r === 'timestamp') throw otherSized; return file(r); } }))).toBe(otherSized);
    const lookalike = Object.assign(new Error('big'), { code: 'ERR_METADATA_TOO_LARGE', role: 'timestamp', actual: 99 });
    expect(caught(() => verifyRepository({ ...base, source: (r) => { if (r === 'timestamp') throw lookalike; return file(r); } }))).toBe(lookalike);
    const crash = new RangeError('boom');
    expect(caught(() => verifyRepository({ ...base, source: () => { throw crash; } }))).toBe(crash);
  });
});
