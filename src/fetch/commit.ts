/**
 * Durable writes: each file goes to a temporary sibling, is fsynced, then renamed over the old
 * one, and the directory is fsynced. A reader sees the old file or the new one, never a mix.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TrustError } from '../errors.js';

let counter = 0;

const cacheWriteError = (path: string, e: unknown) =>
  new TrustError('ERR_FETCH_CACHE_WRITE', `cannot write ${path}: ${(e as Error).message}`, { path, check: 'commit', cause: e });

/** Writes and fsyncs a temporary sibling of `path`; returns its name. */
function writeTemp(path: string, bytes: Uint8Array, mode: number): string {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${++counter}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(tmp, 'wx', mode);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return tmp;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw cacheWriteError(path, e);
  }
}

/** Writes `bytes` to `path` atomically (temp + fsync + rename + directory fsync). */
export function writeFileAtomic(path: string, bytes: Uint8Array, mode = 0o600): void {
  const tmp = writeTemp(path, bytes, mode);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw cacheWriteError(path, e);
  }
  syncDir(dirname(path));
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself has happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Commits verified metadata into notary's cache layout, `<metadataDir>/<role>.json`. Every new
 * file is first written and fsynced beside its target, so a write error (disk full) renames
 * nothing. Then the renames, in an order that never leaves a newer timestamp pointing at files
 * that are not there yet: root, targets and delegations, snapshot, their directories fsynced,
 * and the timestamp last. Only files whose bytes changed are written. Returns the roles written.
 */
export function commitMetadata(metadataDir: string, files: ReadonlyMap<string, Uint8Array>, unchanged: (role: string, bytes: Uint8Array) => boolean): string[] {
  const rank = (role: string) => (role === 'root' ? 0 : role === 'snapshot' ? 2 : role === 'timestamp' ? 3 : 1);
  const order = [...files.keys()].filter((role) => !unchanged(role, files.get(role) as Uint8Array)).sort((a, b) => rank(a) - rank(b));
  const pathOf = (role: string) => join(metadataDir, ...role.split('/')) + '.json';
  const temps = new Map<string, string>();
  try {
    for (const role of order) temps.set(role, writeTemp(pathOf(role), files.get(role) as Uint8Array, 0o600));
  } catch (e) {
    for (const t of temps.values()) rmSync(t, { force: true });
    throw e;
  }
  const dirs = new Set<string>();
  const rename = (role: string) => {
    const path = pathOf(role);
    try {
      renameSync(temps.get(role) as string, path);
    } catch (e) {
      for (const [r, t] of temps) if (r !== role) rmSync(t, { force: true });
      throw cacheWriteError(path, e);
    }
    temps.delete(role);
    dirs.add(dirname(path));
  };
  for (const role of order) if (role !== 'timestamp') rename(role);
  for (const d of dirs) syncDir(d);
  if (temps.has('timestamp')) {
    rename('timestamp');
    syncDir(metadataDir);
  }
  return order;
}
