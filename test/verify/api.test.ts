/** Misuse of the public API is a typed ERR_INVALID_ARGUMENT, never a crash or a pass. */
import { describe, expect, it } from 'vitest';
import { verifyRepository } from '../../src/verify/repository.js';
import { dirSource, expectTrustError, scenario } from '../helpers/vectors.js';

const s = scenario('basic');
const source = dirSource(s.metadataDir);

describe('verifyRepository options', () => {
  it('refuses bad options with ERR_INVALID_ARGUMENT', () => {
    const bad: unknown[] = [
      { gun: '', source, now: s.now },
      { gun: s.gun, source, now: new Date('nope') },
      { gun: s.gun, source, now: '2026-01-01' },
      { gun: s.gun, source: {}, now: s.now },
      { gun: s.gun, source, now: s.now, mode: 'lenient' },
    ];
    for (const opts of bad) expectTrustError(() => verifyRepository(opts as never), 'ERR_INVALID_ARGUMENT');
  });

  it('copies the clock: mutating the Date afterwards changes nothing', () => {
    const now = new Date(s.now);
    const repo = verifyRepository({ gun: s.gun, source, now });
    now.setFullYear(2100);
    expect(repo.verifiedAt.toISOString()).toBe(s.now.toISOString());
  });

  it('a source that returns more bytes than the cap is refused even if it ignores maxBytes', () => {
    const padded = (role: string) => {
      const b = source(role, Infinity);
      return role === 'timestamp' && b ? new Uint8Array(2 * 1024 * 1024) : b;
    };
    expectTrustError(() => verifyRepository({ gun: s.gun, source: padded, now: s.now }), 'ERR_METADATA_TOO_LARGE', 'timestamp');
  });

  it('limits are configurable: a 100-byte root cap refuses the real root', () => {
    expectTrustError(() => verifyRepository({ gun: s.gun, source, now: s.now, limits: { maxRootBytes: 100 } }), 'ERR_METADATA_TOO_LARGE', 'root');
  });
});

describe('limits', () => {
  it('a file with more signatures than limits.maxSignatures is refused before any verification', () => {
    const rot = scenario('root-rotation'); // root v3 carries two signatures
    expectTrustError(
      () => verifyRepository({ gun: rot.gun, source: dirSource(rot.metadataDir), now: rot.now, limits: { maxSignatures: 1 } }),
      'ERR_METADATA_TOO_LARGE',
      'root',
    );
  });

  it('an undefined limit keeps the default; a non-positive one is a usage error', () => {
    expect(verifyRepository({ gun: s.gun, source, now: s.now, limits: { maxJsonDepth: undefined as never } }).gun).toBe(s.gun);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expectTrustError(() => verifyRepository({ gun: s.gun, source, now: s.now, limits: { maxJsonDepth: bad } }), 'ERR_INVALID_ARGUMENT');
    }
  });
});
