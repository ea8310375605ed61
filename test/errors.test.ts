import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isTrustError, TrustError } from '../src/errors.js';
import * as api from '../src/index.js';

describe('TrustError', () => {
  it('codes are unique, Node-style and exported from the package root', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const c of ERROR_CODES) expect(c).toMatch(/^ERR_[A-Z0-9_]+$/);
    expect(api.ERROR_CODES).toBe(ERROR_CODES);
  });

  it('carries structured fields and serialises without the stack', () => {
    const cause = new Error('inner');
    const e = new TrustError('ERR_THRESHOLD_NOT_MET', 'targets: 0 valid signatures', {
      role: 'targets', check: 'signature threshold', expected: 1, actual: 0, keyIds: ['ab'], cause,
    });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('TrustError');
    expect(e.cause).toBe(cause);
    expect(e.toJSON()).toEqual({
      code: 'ERR_THRESHOLD_NOT_MET', message: 'targets: 0 valid signatures', role: 'targets',
      check: 'signature threshold', expected: 1, actual: 0, keyIds: ['ab'],
    });
  });

  it('isTrustError recognises copies from another instance of the package, and nothing else', () => {
    const foreign = Object.assign(new Error('x'), { name: 'TrustError', code: 'ERR_METADATA_EXPIRED' });
    expect(isTrustError(foreign)).toBe(true);
    expect(isTrustError(Object.assign(new Error('x'), { name: 'TrustError', code: 'ERR_NOPE' }))).toBe(false);
    expect(isTrustError(new Error('x'))).toBe(false);
    expect(isTrustError({ name: 'TrustError', code: 'ERR_METADATA_EXPIRED' })).toBe(false);
    expect(isTrustError(new TrustError('ERR_INVALID_ARGUMENT', 'x'))).toBe(true);
  });
});

/** Node's own error codes that src compares against (never raised by trustgate). */
const NODE_CODES = new Set(['ERR_MODULE_NOT_FOUND']);

describe('the code union', () => {
  /** Every `'ERR_…'` literal in src outside errors.ts. */
  const raised = (() => {
    const files = (d: string): string[] =>
      readdirSync(d).flatMap((e) => {
        const p = join(d, e);
        return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('errors.ts') ? [p] : [];
      });
    const text = files(join(import.meta.dirname, '..', 'src')).map((f) => readFileSync(f, 'utf8')).join('\n');
    return new Set([...text.matchAll(/'(ERR_[A-Z0-9_]+)'/g)].map((m) => m[1] as string).filter((c) => !NODE_CODES.has(c)));
  })();

  it('holds every code trustgate reports, ERR_INTERNAL (a bug in trustgate) included', () => {
    expect(ERROR_CODES).toContain('ERR_INTERNAL');
    for (const c of raised) expect(ERROR_CODES as readonly string[], c).toContain(c);
  });

  it('declares no code that nothing raises (an unparsable key is ignored, as in Notary, not ERR_KEY_INVALID)', () => {
    for (const c of ERROR_CODES) expect(raised.has(c), c).toBe(true);
  });
});
