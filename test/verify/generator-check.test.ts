/**
 * The generated vectors regenerate byte for byte from the fixed keys (scripts/generate-vectors.mjs
 * --check, which runs against dist/). Its own file so the mutation run (vitest.mutation.config.ts)
 * can leave out this child process while it keeps every vector.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VECTORS } from '../helpers/vectors.js';

describe('generated vectors', () => {
  it('regenerate byte for byte from the fixed keys (generator --check against dist/)', () => {
    const r = spawnSync(process.execPath, [join(VECTORS, '..', 'scripts', 'generate-vectors.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
