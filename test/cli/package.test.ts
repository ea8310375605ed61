/**
 * What `npm pack` and `npm publish` ship: the package must be built before it is packed (`files`
 * lists only `dist/`), and it must carry the licence its `license` field names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; files: string[]; license: string };

describe('package contents', () => {
  it('prepack runs the build, so a fresh checkout never packs an empty dist/', () => {
    expect(pkg.files).toEqual(['dist']);
    expect(pkg.scripts['prepack']).toBeDefined();
    const prepack = pkg.scripts['prepack'] as string;
    // Either the build command itself or the build script.
    expect(prepack === pkg.scripts['build'] || /\bnpm run build\b/.test(prepack), prepack).toBe(true);
  });

  it('LICENSE is the Apache License 2.0 that package.json names', () => {
    expect(pkg.license).toBe('Apache-2.0');
    const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(text).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(text).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    expect(text).toContain('END OF TERMS AND CONDITIONS');
  });
});
