/**
 * The trusted-state record per GUN: the last verified root, the highest version seen per role,
 * when the timestamp expires and when the last verified fetch happened. It lives apart from the
 * trust cache (`$XDG_STATE_HOME/trustgate`, else `~/.local/state/trustgate`), so that whoever can
 * rewrite the cache cannot also lower the version floor, and it is written only after a verified
 * commit. Offline `verifyRepository`/`verifyTrustDir` take `record.trustedState`.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { TrustError } from '../errors.js';
import type { TrustedState } from '../verify/types.js';
import { writeFileAtomic } from './commit.js';
import { checkGun } from './server.js';

export interface TrustedStateRecord {
  /** Format version of the record file. */
  format: 1;
  gun: string;
  /** Pass this as `VerifyOptions.trustedState`. */
  trustedState: TrustedState;
  /** `expires` of the timestamp that was verified last. */
  timestampExpires: string;
  /** When the last verified fetch was committed (ISO 8601). */
  fetchedAt: string;
  /** The server it came from. */
  server: string;
}

const recordSchema = z.object({
  format: z.literal(1),
  gun: z.string(),
  trustedState: z.object({
    gun: z.string(),
    root: z.string().min(1),
    versions: z.record(z.string(), z.number().int().min(0)),
  }),
  timestampExpires: z.string(),
  fetchedAt: z.string(),
  server: z.string(),
});

/** `$XDG_STATE_HOME/trustgate`, else `~/.local/state/trustgate`. */
export function defaultStateDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const xdg = env['XDG_STATE_HOME'];
  return join(xdg !== undefined && xdg.startsWith('/') ? xdg : join(homedir(), '.local', 'state'), 'trustgate');
}

export function stateFile(stateDir: string, gun: string): string {
  checkGun(gun);
  return join(stateDir, 'gun', ...gun.split('/'), 'trusted-state.json');
}

/**
 * Reads the record of `gun`; undefined when there is none yet. A record that exists but does not
 * parse is an error, never "no record": silently dropping it would drop the floor.
 *
 * @example
 * ```ts
 * import { readTrustedState } from 'trustgate/fetch';
 * import { verifyTrustDir } from 'trustgate';
 * const rec = readTrustedState({ gun: 'docker.io/acme/app' });
 * verifyTrustDir({ gun: 'docker.io/acme/app', now: new Date(), ...(rec ? { trustedState: rec.trustedState } : {}) });
 * ```
 * @throws {TrustError} `ERR_TRUST_DIR_UNREADABLE` for an unreadable or corrupt record
 */
export function readTrustedState(opts: { gun: string; stateDir?: string }): TrustedStateRecord | undefined {
  const file = stateFile(opts.stateDir ?? defaultStateDir(), opts.gun);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TrustError('ERR_TRUST_DIR_UNREADABLE', `cannot read the trusted-state record ${file}: ${(e as Error).message}`, { path: file, cause: e });
  }
  let rec: TrustedStateRecord;
  try {
    rec = recordSchema.parse(JSON.parse(text)) as TrustedStateRecord;
  } catch (e) {
    throw new TrustError('ERR_TRUST_DIR_UNREADABLE', `the trusted-state record ${file} is corrupt`, { path: file, cause: e, check: 'trusted-state record' });
  }
  if (rec.gun !== opts.gun || rec.trustedState.gun !== opts.gun) {
    throw new TrustError('ERR_TRUST_DIR_UNREADABLE', `the trusted-state record ${file} is for ${rec.gun}, not ${opts.gun}`, { path: file, check: 'trusted-state record' });
  }
  return rec;
}

export function writeTrustedState(stateDir: string, rec: TrustedStateRecord): void {
  writeFileAtomic(stateFile(stateDir, rec.gun), Buffer.from(`${JSON.stringify(rec, null, 2)}\n`, 'utf8'));
}
