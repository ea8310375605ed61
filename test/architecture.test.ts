/**
 * The core is pure: verification code takes bytes and a clock. Only adapters do I/O, and only
 * src/crypto talks to the crypto libraries (plus quarantine's own ids module on node:crypto).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Modules a file loads at run time (`import type` loads nothing). */
function imports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)(?!\s+type\b)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string);
}

const CORE = ['json', 'crypto', 'tuf', 'verify', 'quarantine'].flatMap((d) => files(join(SRC, d)));
/** The core plus the other pure modules: reference parsing and the admission policy and decision (their adapters are admission/sources.ts and the CLI). */
const NO_IO = [...CORE, ...files(join(SRC, 'reference')), join(SRC, 'admission', 'policy.ts'), join(SRC, 'admission', 'decision.ts')];
const IO = /^(node:)?(fs|fs\/promises|net|http|https|http2|child_process|dgram|dns|os|process|worker_threads)$/;

describe('architecture', () => {
  it('the core (json, crypto, tuf, verify, quarantine), reference parsing and the admission policy and decision import no I/O module', () => {
    for (const f of NO_IO) {
      const bad = imports(f).filter((m) => IO.test(m));
      expect(bad, relative(SRC, f)).toEqual([]);
    }
  });

  it('the core reads neither the clock nor the environment', () => {
    for (const f of CORE) {
      const text = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(/\bDate\.now\(\)|new Date\(\)|process\.env/.test(text), relative(SRC, f)).toBe(false);
    }
  });

  it('only src/crypto and src/quarantine/ids.ts import node:crypto; only src/crypto imports @noble', () => {
    const ids = join(SRC, 'quarantine', 'ids.ts');
    for (const f of files(SRC)) {
      if (f.includes(`${join(SRC, 'crypto')}`)) continue;
      const bad = imports(f).filter((m) => (f !== ids && (m === 'node:crypto' || m === 'crypto')) || m.startsWith('@noble/'));
      expect(bad, relative(SRC, f)).toEqual([]);
    }
  });

  it('quarantine imports neither verify nor crypto (nor tuf): it stands alone beside the verifier', () => {
    const quarantine = files(join(SRC, 'quarantine'));
    expect(quarantine.length).toBeGreaterThan(0);
    for (const f of quarantine) {
      // `import type` counts too: a type from the verifier would still couple the modules.
      const all = [...readFileSync(f, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string);
      const bad = all.filter((m) => /^\.\.\/(verify|crypto|tuf)(\/|$)/.test(m));
      expect(bad, relative(SRC, f)).toEqual([]);
    }
  });

  it('the core (verify, json, crypto, tuf) imports nothing from the CLI or the adapters', () => {
    const outer = ['cli', 'admission', 'trust-dir', 'quarantine', 'fetch'].map((d) => join(SRC, d));
    for (const f of ['verify', 'json', 'crypto', 'tuf'].flatMap((d) => files(join(SRC, d)))) {
      const bad = localImports(f).filter((m) => outer.some((d) => m.startsWith(d + '/')));
      expect(bad.map((m) => relative(SRC, m)), relative(SRC, f)).toEqual([]);
    }
  });

  it('outer layers (trust-dir, admission, cli, reference, quarantine, fetch) reach tuf/ only through verify/', () => {
    const outer = ['trust-dir', 'admission', 'cli', 'reference', 'quarantine', 'fetch'].map((d) => join(SRC, d)).filter(existsSync);
    for (const f of [...outer.flatMap(files), join(SRC, 'index.ts')]) {
      const bad = localImports(f, true).filter((m) => m.startsWith(join(SRC, 'tuf') + '/'));
      expect(bad.map((m) => relative(SRC, m)), relative(SRC, f)).toEqual([]);
    }
  });

  it('src/crypto is imported only from tuf/ and verify/ (quarantine hashes ids with crypto/hash.js: a known exception)', () => {
    const allowed = ['tuf', 'verify', 'crypto'].map((d) => join(SRC, d) + '/');
    const known = ['quarantine/events.ts', 'quarantine/acr.ts'];
    for (const f of files(SRC)) {
      if (allowed.some((d) => f.startsWith(d)) || known.includes(relative(SRC, f))) continue;
      const bad = localImports(f, true).filter((m) => m.startsWith(join(SRC, 'crypto') + '/'));
      expect(bad.map((m) => relative(SRC, m)), relative(SRC, f)).toEqual([]);
    }
  });
});

/** Files of src a file imports, resolved to paths (`.js` specifiers name `.ts` files); type-only imports too when asked. */
function localImports(file: string, withTypes = false): string[] {
  const re = withTypes ? /^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm : /^\s*(?:import|export)(?!\s+type\b)[^'"]*from\s+['"]([^'"]+)['"]/gm;
  return [...readFileSync(file, 'utf8').matchAll(re)]
    .map((m) => m[1] as string)
    .filter((m) => m.startsWith('.'))
    .map((m) => resolve(dirname(file), m).replace(/\.js$/, '.ts'));
}

