/** The SQL stores ship as their own entry points, resolved through package.json `exports` (npm test builds dist/ first). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('entry points', () => {
  it.each([
    ['trustgate/quarantine/postgres', 'createPostgresStore'],
    ['trustgate/quarantine/embedded', 'createEmbeddedStore'],
  ])('%s exports %s and SCHEMA_VERSION, with types; pg and PGlite stay external', async (specifier, factory) => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    const entry = pkg.exports[specifier.replace('trustgate', '.')];
    expect(entry, specifier).toBeDefined();
    for (const f of [entry?.types, entry?.default]) expect(existsSync(join(ROOT, f as string)), `${f} (run npm run build)`).toBe(true);
    const mod = (await import(specifier)) as Record<string, unknown>;
    expect(typeof mod[factory]).toBe('function');
    expect(mod['SCHEMA_VERSION']).toBeGreaterThanOrEqual(2);
    const js = readFileSync(join(ROOT, entry?.default as string), 'utf8');
    expect(js).toMatch(/from ["'](pg|@electric-sql\/pglite)["']/);
  });
});
