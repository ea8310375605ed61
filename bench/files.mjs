// Trust-directory I/O for the benchmark, without the generator (so that child processes do not
// load the key material and noble at start-up).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The same values as scripts/lib/notary-writer.mjs (bench/repo.mjs checks that they agree). */
export const GUN = 'example.com/trustgate/repo';
export const NOW = '2030-01-01T00:00:00Z';

export const metadataDir = (trustDir) => join(trustDir, 'tuf', ...GUN.split('/'), 'metadata');

/** Writes files in the trust-directory layout docker and notary use. */
export function writeTrustDir(trustDir, files) {
  const dir = metadataDir(trustDir);
  for (const [role, buf] of Object.entries(files)) {
    const file = join(dir, `${role}.json`);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, buf);
  }
}

/** Reads every `<role>.json` under a GUN's metadata directory back into `{ role: Buffer }`. */
export function readTrustDir(trustDir) {
  const dir = metadataDir(trustDir);
  const files = {};
  const walk = (sub) => {
    for (const e of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.json')) files[rel.slice(0, -5)] = readFileSync(join(dir, rel));
    }
  };
  walk('');
  return files;
}

export const totalBytes = (files) => Object.values(files).reduce((s, b) => s + b.length, 0);
