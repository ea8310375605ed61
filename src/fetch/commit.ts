/**
 * Durable writes: each file goes to a temporary sibling, is fsynced, then renamed over the old
 * one, and the directory is fsynced. A reader sees the old file or the new one, never a mix.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TrustError } from '../errors.js';

let counter = 0;

/** Writes `bytes` to `path` atomically (temp + fsync + rename + directory fsync). */
export function writeFileAtomic(path: string, bytes: Uint8Array, mode = 0o600): void {
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
    renameSync(tmp, path);
    syncDir(dir);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new TrustError('ERR_FETCH_CACHE_WRITE', `cannot write ${path}: ${(e as Error).message}`, { path, check: 'commit', cause: e });
  }
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
 * Commits verified metadata into notary's cache layout, `<metadataDir>/<role>.json`, in an order
 * that never leaves a newer timestamp pointing at files that are not there yet: root first, then
 * targets and delegations, then snapshot, timestamp last. Only files whose bytes changed are
 * written. Returns the roles written.
 */
export function commitMetadata(metadataDir: string, files: ReadonlyMap<string, Uint8Array>, unchanged: (role: string, bytes: Uint8Array) => boolean): string[] {
  const rank = (role: string) => (role === 'root' ? 0 : role === 'snapshot' ? 2 : role === 'timestamp' ? 3 : 1);
  const order = [...files.keys()].sort((a, b) => rank(a) - rank(b));
  const written: string[] = [];
  for (const role of order) {
    const bytes = files.get(role) as Uint8Array;
    if (unchanged(role, bytes)) continue;
    writeFileAtomic(join(metadataDir, ...role.split('/')) + '.json', bytes);
    written.push(role);
  }
  return written;
}
