/**
 * The nevers of the layering (DEVELOPERS.md, issue 11), checked on every module's static and dynamic
 * imports:
 * - the core is pure: json, crypto, tuf, verify and quarantine take bytes and a clock, import no I/O
 *   module and read neither the clock nor the environment;
 * - verify, json, crypto and tuf import no cli; nothing outside src/cli imports src/cli;
 * - quarantine imports neither verify nor crypto (it has its own ids module on node:crypto);
 * - only src/crypto (and quarantine's ids module, and the gateway for HTTP auth, webhook HMACs and
 *   manifest digests, which is no TUF crypto) talk to node:crypto; only src/crypto to @noble;
 *   src/crypto is imported only by tuf and verify;
 * - the gateway is an adapter over quarantine: it imports neither verify, crypto nor tuf;
 * - code outside the verifier core reaches tuf only through verify;
 * - no function is longer than 80 lines, the canonical scanner (one grammar, one loop) aside.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const strip = (text: string) => text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');

/**
 * Modules a file loads at run time: static imports and re-exports, bare imports and `import('…')`.
 * With `withTypes`, `import type` counts too: a type from another layer still couples the two.
 */
function imports(file: string, withTypes = false): string[] {
  const text = strip(readFileSync(file, 'utf8'));
  const from = withTypes ? /^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm : /^\s*(?:import|export)(?!\s+type\b)[^'"]*from\s+['"]([^'"]+)['"]/gm;
  const staticOnes = [...text.matchAll(from)].map((m) => m[1] as string);
  const bare = [...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string);
  const dynamic = [...text.matchAll(/\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g)].map((m) => m[1] as string);
  return [...staticOnes, ...bare, ...dynamic];
}

/** The top-level folder under src/ a relative import lands in (`errors.ts` → `errors`), or undefined for a package. */
function layerOf(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const target = relative(SRC, resolve(dirname(file), spec));
  return target.split(sep)[0]?.replace(/\.(js|ts)$/, '');
}

const layer = (file: string) => relative(SRC, file).split(sep)[0]?.replace(/\.ts$/, '') as string;
const ALL = files(SRC);
const inLayers = (...names: string[]) => ALL.filter((f) => names.includes(layer(f)));

const CORE = inLayers('json', 'crypto', 'tuf', 'verify', 'quarantine');
/** The core plus the other pure modules: reference parsing and the admission policy and decision (their adapters are admission/sources.ts and the CLI). */
const NO_IO = [...CORE, ...inLayers('reference'), join(SRC, 'admission', 'policy.ts'), join(SRC, 'admission', 'decision.ts')];
const IO = /^(node:)?(fs|fs\/promises|net|http|https|http2|child_process|dgram|dns|os|process|worker_threads|readline|tls)$/;
const QUARANTINE_IDS = join(SRC, 'quarantine', 'ids.ts');

function offending(from: readonly string[], bad: (file: string, spec: string) => boolean, withTypes = false): string[] {
  return from.flatMap((f) => imports(f, withTypes).filter((m) => bad(f, m)).map((m) => `${relative(SRC, f)} → ${m}`));
}

describe('architecture', () => {
  it('the core (json, crypto, tuf, verify, quarantine), reference parsing and the admission policy and decision import no I/O module', () => {
    expect(offending(NO_IO, (_, m) => IO.test(m))).toEqual([]);
  });

  it('the core reads neither the clock nor the environment', () => {
    for (const f of CORE) {
      const text = strip(readFileSync(f, 'utf8'));
      expect(/\bDate\.now\(\)|new Date\(\)|process\.env/.test(text), relative(SRC, f)).toBe(false);
    }
  });

  it('nothing outside src/cli imports src/cli', () => {
    const outside = ALL.filter((f) => layer(f) !== 'cli');
    expect(offending(outside, (f, m) => layerOf(f, m) === 'cli', true)).toEqual([]);
  });

  it('the verifier core (verify, json, crypto, tuf) imports no cli and no adapter', () => {
    const adapters = new Set(['cli', 'admission', 'trust-dir', 'quarantine', 'fetch']);
    expect(offending(inLayers('verify', 'json', 'crypto', 'tuf'), (f, m) => adapters.has(layerOf(f, m) ?? ''))).toEqual([]);
  });

  it('quarantine imports neither verify nor crypto (nor tuf, trust-dir, admission)', () => {
    const banned = new Set(['verify', 'crypto', 'tuf', 'trust-dir', 'admission', 'fetch']);
    expect(offending(inLayers('quarantine'), (f, m) => banned.has(layerOf(f, m) ?? ''), true)).toEqual([]);
  });

  it('only src/crypto, quarantine/ids.ts and src/gateway import node:crypto; only src/crypto imports @noble', () => {
    // src/gateway: HMAC and bcrypt for HTTP auth and webhooks, sha256 of manifest bodies; no TUF crypto.
    const others = ALL.filter((f) => layer(f) !== 'crypto' && layer(f) !== 'gateway');
    const bad = (f: string, m: string) => ((m === 'node:crypto' || m === 'crypto') && f !== QUARANTINE_IDS) || m.startsWith('@noble/');
    expect(offending(others, bad)).toEqual([]);
  });

  it('the gateway imports neither verify, crypto nor tuf, and no @noble', () => {
    const banned = new Set(['verify', 'crypto', 'tuf']);
    expect(offending(inLayers('gateway'), (f, m) => banned.has(layerOf(f, m) ?? '') || m.startsWith('@noble/'), true)).toEqual([]);
  });

  it('src/crypto is imported only by tuf and verify', () => {
    const others = ALL.filter((f) => !['crypto', 'tuf', 'verify'].includes(layer(f)));
    expect(offending(others, (f, m) => layerOf(f, m) === 'crypto')).toEqual([]);
  });

  it('outside the verifier core, tuf is reached only through verify', () => {
    const outer = ALL.filter((f) => !['json', 'crypto', 'tuf', 'verify'].includes(layer(f)));
    expect(offending(outer, (f, m) => layerOf(f, m) === 'tuf', true)).toEqual([]);
  });

  it('the import scanner sees static, bare and dynamic imports (it can fail)', () => {
    const probe = join(SRC, 'cli', 'main.ts');
    expect(imports(probe).length).toBeGreaterThan(0);
    expect(layerOf(join(SRC, 'verify', 'x.ts'), '../tuf/root.js')).toBe('tuf');
    expect(layerOf(join(SRC, 'index.ts'), './errors.js')).toBe('errors');
    expect(layerOf(join(SRC, 'index.ts'), 'zod')).toBeUndefined();
    expect(ALL.some((f) => imports(f).some((m) => m === './engine.js' || m.endsWith('/engine.js')))).toBe(true);
  });

  it('no function is longer than 80 lines (the canonical scanner aside)', () => {
    const long: string[] = [];
    for (const f of ALL) {
      const sf = ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (n: ts.Node): void => {
        if (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isArrowFunction(n) || ts.isFunctionExpression(n)) {
          const first = sf.getLineAndCharacterOfPosition(n.getStart()).line;
          const last = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
          const name = (n as { name?: ts.Node }).name?.getText(sf) ?? '(anonymous)';
          if (last - first + 1 > 80 && name !== 'scanCanonical') long.push(`${relative(SRC, f)}:${first + 1} ${name} (${last - first + 1} lines)`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    expect(long).toEqual([]);
  });
});
