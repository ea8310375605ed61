/** Loads the vector sets in vectors/ (see vectors/README.md for where each came from). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { MetadataSource } from '../../src/verify/types.js';
import type { TrustErrorCode } from '../../src/errors.js';

export const VECTORS = join(import.meta.dirname, '..', '..', 'vectors');
export const NOTARY = join(VECTORS, 'notary-0.7.0');
export const UPSTREAM = join(VECTORS, 'upstream');

export interface ExpectedTarget {
  sha256: string;
  length: number;
  role: string;
}

export interface Scenario {
  name: string;
  dir: string;
  gun: string;
  now: Date;
  trustDir: string;
  metadataDir: string;
  expected: {
    targets: Record<string, ExpectedTarget>;
    targets_by_role: Record<string, Record<string, { sha256: string; length: number }>>;
    notary_list_by_role?: Record<string, { name: string; sha256: string; length: number; role: string }[]>;
    notary_lookup: Record<string, { exit: number; result: { sha256: string; length: number } | null }>;
  };
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function scenarios(): Scenario[] {
  return readdirSync(NOTARY)
    .filter((d) => existsSync(join(NOTARY, d, 'expected.json')))
    .sort()
    .map((name) => {
      const dir = join(NOTARY, name);
      const e = readJson<Scenario['expected'] & { gun: string; generated_at: string; metadata_dir: string }>(join(dir, 'expected.json'));
      return {
        name,
        dir,
        gun: e.gun,
        now: new Date(e.generated_at),
        trustDir: join(dir, 'trust'),
        metadataDir: join(dir, e.metadata_dir),
        expected: e,
      };
    });
}

export function scenario(name: string): Scenario {
  const s = scenarios().find((x) => x.name === name);
  if (!s) throw new Error(`no scenario ${name}`);
  return s;
}

/** A source over a plain metadata directory (`<dir>/<role>.json`). */
export function dirSource(metadataDir: string, overrides: Record<string, Uint8Array | undefined> = {}): MetadataSource {
  return (role) => {
    if (Object.hasOwn(overrides, role)) return overrides[role];
    const p = join(metadataDir, `${role}.json`);
    return existsSync(p) ? new Uint8Array(readFileSync(p)) : undefined;
  };
}

/** Runs `f` and asserts it throws a TrustError with `code` (and `role` when given). */
export function expectTrustError(f: () => unknown, code: TrustErrorCode, role?: string): Error {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(Error);
  const err = caught as Error & { code?: string; role?: string };
  expect({ code: err.code, ...(role !== undefined ? { role: err.role } : {}) }, err.message).toEqual({
    code,
    ...(role !== undefined ? { role } : {}),
  });
  return err;
}

/** What `f` throws, for asserting its fields (code, role, check, text); a call that returns fails the test. */
export function caught(f: () => unknown): Record<string, unknown> {
  try {
    f();
  } catch (e) {
    return e as Record<string, unknown>;
  }
  throw new Error('expected a throw');
}
