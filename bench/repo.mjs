// Benchmark repositories: Notary-format metadata with N targets spread over `targets` and a
// delegation tree, built with the fixed keys of scripts/lib/notary-writer.mjs. Everything is
// derived from SEED, so two runs produce byte-identical files.
import { createHash } from 'node:crypto';
import { GUN, NOW, baseModel, build, fileMeta } from '../scripts/lib/notary-writer.mjs';
import { GUN as FILES_GUN, NOW as FILES_NOW } from './files.mjs';

export { metadataDir, readTrustDir, totalBytes, writeTrustDir } from './files.mjs';
export { GUN, NOW };
if (GUN !== FILES_GUN || NOW !== FILES_NOW) throw new Error('bench/files.mjs and notary-writer disagree on GUN or NOW');
export const SEED = 'trustgate-bench-v1';

/** Roles in load order with the name prefix their paths allow (targets/a: foo…, targets/a/b: foobar…). */
const ROLE_PREFIX = {
  targets: 'v',
  'targets/releases': 'r',
  'targets/a': 'foo-',
  'targets/a/b': 'foobar-',
  'targets/c': 'c',
};

/** Half the targets in `targets`; the rest 60/15/15/10 over releases, a, a/b and c. */
export function distribution(n) {
  const top = Math.ceil(n / 2);
  const rest = n - top;
  const releases = Math.floor(rest * 0.6);
  const a = Math.floor(rest * 0.15);
  const ab = Math.floor(rest * 0.15);
  const c = rest - releases - a - ab;
  return { targets: top, 'targets/releases': releases, 'targets/a': a, 'targets/a/b': ab, 'targets/c': c };
}

const hex = (s) => createHash('sha256').update(s).digest('hex');

/** Deterministic target entries for one role: name `<prefix><i>-<8 hex>`, content from SEED. */
export function targetsFor(role, count) {
  const out = {};
  for (let i = 0; i < count; i++) {
    const h = hex(`${SEED}\u0000${role}\u0000${i}`);
    out[`${ROLE_PREFIX[role]}${i}-${h.slice(0, 8)}`] = fileMeta(`manifest ${h}`);
  }
  return out;
}

/** `{ role: Buffer }` for a repository of `n` targets. */
export function generateRepo(n) {
  const model = baseModel();
  for (const [role, count] of Object.entries(distribution(n))) model[role].signed.targets = targetsFor(role, count);
  return build({}, model);
}

