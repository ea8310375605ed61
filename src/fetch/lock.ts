/**
 * One fetch of a GUN at a time, across processes and threads: a fetch holds a lock on the GUN's
 * trusted-state record and one on its cache directory from the moment it reads the record until
 * its commit is done. A second fetch waits (polling) within its own deadline, then starts from
 * what the first committed — or gives up with `ERR_FETCH_TIMEOUT` (check `lock`) at the deadline.
 *
 * The locks are proper-lockfile's: an atomic `mkdir` of `<path>.lock`, whose mtime the holder
 * refreshes every {@link UPDATE_MS}. A holder that died (SIGKILL, power loss) stops refreshing it,
 * and after {@link STALE_MS} the next fetch takes the lock over, so a stale lock never wedges a
 * GUN; this works on a shared or network file system, where a pid would mean nothing.
 *
 * Taking a lock may create its parent directories (`<trust-dir>/tuf/<gun>/`, `<state-dir>/gun/<gun>/`).
 * A fetch that fails removes again the ones it created, once they are empty, so that a failed
 * fetch leaves both directories exactly as they were (issue 13: "byte-for-byte as it was").
 */
import { mkdirSync, rmdirSync } from 'node:fs';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import { TrustError } from '../errors.js';
import { stateFile } from './state.js';

/** A lock whose mtime is older than this is a dead holder's. Well above UPDATE_MS plus any synchronous verification. */
export const STALE_MS = 10_000;
const UPDATE_MS = 2_000;
const POLL_MS = 100;

export interface LockWhere {
  gun: string;
  stateDir: string;
  metadataDir: string;
  /** Epoch ms (machine clock) after which waiting stops. */
  deadline: number;
  signal?: AbortSignal | undefined;
}

/** Throws if a held lock was lost (taken over as stale while this fetch ran): nothing may be committed then. */
export type LockCheck = () => void;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `work` holding the record lock, then the cache lock (always in this order: no deadlock). */
export async function withFetchLocks<T>(where: LockWhere, work: (check: LockCheck) => Promise<T>): Promise<T> {
  const lost: Error[] = [];
  const releases: (() => Promise<void>)[] = [];
  const created: Created[] = [];
  let failed = true;
  try {
    for (const [path, required] of [[stateFile(where.stateDir, where.gun), true], [where.metadataDir, false]] as const) {
      const release = await acquire(path, where, lost, required, created);
      if (release) releases.push(release);
    }
    const out = await work(() => {
      if (lost.length > 0) {
        throw new TrustError('ERR_FETCH_CACHE_WRITE', `the lock on ${where.gun} was lost while this fetch ran (${(lost[0] as Error).message}); nothing written, try again`, {
          check: 'lock',
          cause: lost[0],
        });
      }
    });
    failed = false;
    return out;
  } finally {
    for (const release of releases.reverse()) await release().catch(() => undefined);
    if (failed) for (const c of created) removeIfEmpty(c);
  }
}

/** Directories one lock made: `leaf` and its ancestors up to and including `first`. */
interface Created {
  leaf: string;
  first: string;
}

/**
 * Creates `dir` (and missing ancestors); records what it created. Called before every attempt:
 * a failed fetch that held the lock before may just have removed the directory.
 */
function makeParent(dir: string, created: Created[]): void {
  const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (first !== undefined) created.push({ leaf: dir, first });
}

/**
 * Removes the directories recorded in `c`, deepest first, each only while it is empty: rmdir is
 * atomic and refuses a directory with anything in it (another fetch's lock, a file written since).
 */
function removeIfEmpty(c: Created): void {
  for (let d = c.leaf; ; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
    if (d === c.first || dirname(d) === d) return;
  }
}

/**
 * Takes the lock on `path`, waiting while another live fetch holds it. `required` false: a cache
 * directory this process may not create is not locked (it cannot be written by this fetch either).
 */
async function acquire(path: string, where: LockWhere, lost: Error[], required: boolean, created: Created[]): Promise<(() => Promise<void>) | undefined> {
  const lockPath = `${path}.lock`;
  for (;;) {
    if (where.signal?.aborted) throw new TrustError('ERR_FETCH_ABORTED', `${where.gun}: the fetch was aborted while waiting for ${lockPath}`, { check: 'lock', cause: where.signal.reason });
    try {
      makeParent(dirname(lockPath), created);
    } catch (e) {
      if (!required) return undefined;
      throw lockError(lockPath, e);
    }
    try {
      return await lockfile.lock(path, { realpath: false, stale: STALE_MS, update: UPDATE_MS, retries: 0, onCompromised: (e) => void lost.push(e) });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOENT: the directory was removed between mkdir and lock (a failed fetch cleaning up): wait, again.
      if (code !== 'ELOCKED' && code !== 'ENOENT') {
        if (!required && (code === 'EACCES' || code === 'EROFS' || code === 'EPERM')) return undefined;
        throw lockError(lockPath, e);
      }
    }
    const left = where.deadline - Date.now();
    if (left <= 0) {
      throw new TrustError('ERR_FETCH_TIMEOUT', `${where.gun}: another fetch of it still holds ${lockPath}; gave up at the deadline`, { check: 'lock', path: lockPath });
    }
    await sleep(Math.min(POLL_MS, left));
  }
}

const lockError = (path: string, e: unknown) =>
  new TrustError('ERR_FETCH_CACHE_WRITE', `cannot take the lock ${path}: ${(e as Error).message}`, { check: 'lock', path, cause: e });
