/**
 * The only file-system code of the verifier: reads `<trust dir>/tuf/<GUN>/metadata/<role>.json`
 * (notary-rules.md §1) with the size cap the chain gives, refusing anything that resolves outside the GUN's
 * metadata directory (Notary follows symlinks anywhere; we do not — notary-rules.md §14.8).
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { requireObject, requireString } from '../arguments.js';
import { TrustError } from '../errors.js';
import { BASE_ROLES, fileTooLarge, isDelegationName } from '../verify/index.js';
import { verifyRepository } from '../verify/repository.js';
import type { MetadataSource, VerifiedRepository, VerifyOptions } from '../verify/types.js';

/** docker's trust directory: `$DOCKER_CONFIG/trust`, else `~/.docker/trust`. */
export function defaultTrustDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  requireObject(env, 'env');
  const config = env['DOCKER_CONFIG'];
  return join(config !== undefined && config !== '' ? config : join(homedir(), '.docker'), 'trust');
}

/** A GUN used as a path must not climb out of `tuf/` or smuggle separators Notary never writes. */
function checkGunPath(gun: string): void {
  requireString(gun, 'gun');
  const ok =
    gun.length > 0 &&
    gun.length < 512 &&
    !gun.startsWith('/') &&
    !/[\\\0]/.test(gun) &&
    gun.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
  if (!ok) throw new TrustError('ERR_INVALID_ARGUMENT', `GUN ${JSON.stringify(gun)} cannot name a trust directory`);
}

/** The path an open descriptor refers to, where the system tells it (Linux /proc), else undefined. */
function openedPath(fd: number): string | undefined {
  try {
    return realpathSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * A {@link MetadataSource} over one GUN of a trust directory. Files are read lazily, each at
 * most once per call, never beyond `maxBytes + 1` bytes.
 *
 * @example
 * ```ts
 * const source = trustDirSource(defaultTrustDir(), 'docker.io/library/alpine');
 * ```
 */
/** `<trust dir>/tuf/<GUN>/metadata` (notary-rules.md §1). */
const metadataDirOf = (trustDir: string, gun: string) => join(trustDir, 'tuf', ...gun.split('/'), 'metadata');

export function trustDirSource(trustDir: string, gun: string): MetadataSource {
  requireString(trustDir, 'trustDir');
  checkGunPath(gun);
  const metadataDir = metadataDirOf(trustDir, gun);
  let realDir: string | null | undefined;
  const resolveDir = (): string | null => {
    if (realDir !== undefined) return realDir;
    try {
      realDir = realpathSync(metadataDir);
    } catch (e) {
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') realDir = null;
      else throw new TrustError('ERR_TRUST_DIR_UNREADABLE', `cannot read ${metadataDir}: ${(e as Error).message}`, { path: metadataDir, cause: e });
    }
    return realDir;
  };

  return (role, maxBytes) => {
    if (!(BASE_ROLES as readonly string[]).includes(role) && !isDelegationName(role)) {
      throw new TrustError('ERR_ROLE_INVALID', `refusing to read metadata for role ${JSON.stringify(role)}`, { role });
    }
    const dir = resolveDir();
    if (dir === null) return undefined;
    const file = join(metadataDir, ...role.split('/')) + '.json';
    let real: string;
    try {
      real = realpathSync(file);
    } catch (e) {
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return undefined;
      throw new TrustError('ERR_TRUST_DIR_UNREADABLE', `cannot read ${role}.json: ${(e as Error).message}`, { role, path: file, cause: e });
    }
    if (!real.startsWith(dir + sep)) {
      throw new TrustError('ERR_UNSAFE_PATH', `${role}.json resolves to ${real}, outside ${dir}`, { role, path: `${role}.json`, check: 'path containment' });
    }
    let fd: number | undefined;
    try {
      // O_NONBLOCK: opening a FIFO must not hang; O_NOFOLLOW: the resolved path must not have
      // become a symlink since it was checked.
      fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
      const st = fstatSync(fd);
      if (!st.isFile()) {
        throw new TrustError('ERR_UNSAFE_PATH', `${role}.json is not a regular file`, { role, path: `${role}.json` });
      }
      // A directory on the way may have been swapped between the check and the open: check again
      // what the descriptor itself names (Linux), closing that race.
      const opened = openedPath(fd);
      if (opened !== undefined && !opened.startsWith(dir + sep)) {
        throw new TrustError('ERR_UNSAFE_PATH', `${role}.json was swapped for ${opened}, outside ${dir}`, {
          role,
          path: `${role}.json`,
          check: 'path containment',
        });
      }
      if (st.size > maxBytes) throw fileTooLarge(role, st.size, maxBytes, 'size limit');
      // Read at most one byte more than allowed, so a file growing under us is still caught.
      const buf = Buffer.allocUnsafe(Math.min(st.size, maxBytes) + 1);
      let n = 0;
      for (;;) {
        const r = readSync(fd, buf, n, buf.length - n, null);
        if (r === 0) break;
        n += r;
        if (n === buf.length) break;
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, n);
    } catch (e) {
      if (e instanceof TrustError) throw e;
      if (errno(e) === 'ELOOP') {
        throw new TrustError('ERR_UNSAFE_PATH', `${role}.json became a symbolic link while it was read`, { role, path: `${role}.json`, check: 'path containment' });
      }
      throw new TrustError('ERR_TRUST_DIR_UNREADABLE', `cannot read ${role}.json: ${(e as Error).message}`, { role, path: file, cause: e });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  };
}

/**
 * The trust directory the user probably meant when `trustDir` is one level too deep: the `tuf`
 * directory itself (it holds `<GUN>/metadata`, or is named `tuf`), or a `metadata` directory
 * below `<trust dir>/tuf/` (notary-rules.md §1 layout).
 */
function intendedTrustDir(trustDir: string, gun: string): string | undefined {
  const dir = resolve(trustDir);
  if (basename(dir) === 'tuf' || existsSync(join(dir, ...gun.split('/'), 'metadata'))) return dirname(dir);
  if (basename(dir) !== 'metadata' && !existsSync(join(dir, 'root.json'))) return undefined;
  // This GUN's own metadata directory first (a GUN may have a `tuf` segment), else any GUN's.
  const own = sep + join('tuf', ...gun.split('/'), 'metadata');
  if (dir.endsWith(own)) return dir.slice(0, -own.length) || sep;
  const parts = dir.split(sep);
  const tuf = parts.lastIndexOf('tuf');
  return tuf > 0 ? parts.slice(0, tuf).join(sep) || sep : undefined;
}

/**
 * "No root.json" names the directory that was searched and, when `trustDir` looks one level too
 * deep, the one that was probably meant: the chain only knows the role, not where it looked.
 */
function withSearchedPath(e: unknown, trustDir: string, gun: string): unknown {
  if (!(e instanceof TrustError) || e.code !== 'ERR_METADATA_NOT_FOUND' || e.role !== 'root') return e;
  const searched = metadataDirOf(trustDir, gun);
  const meant = intendedTrustDir(trustDir, gun);
  const hint = meant === undefined ? '' : `; ${trustDir} looks like a directory inside the trust directory: did you mean --trust-dir ${meant}?`;
  return new TrustError(e.code, `${e.message} (searched ${searched}${hint})`, { role: 'root', ...(e.check === undefined ? {} : { check: e.check }), path: searched, cause: e });
}

export type VerifyTrustDirOptions = Omit<VerifyOptions, 'source'> & {
  /** Defaults to {@link defaultTrustDir}. */
  trustDir?: string;
};

/**
 * Verifies one GUN of a docker / notary trust directory.
 *
 * @example
 * ```ts
 * import { verifyTrustDir, lookupTarget } from 'trustgate';
 * const repo = verifyTrustDir({ gun: 'docker.io/library/alpine', now: new Date() });
 * console.log(lookupTarget(repo, 'latest').digest);
 * ```
 */
export function verifyTrustDir(opts: VerifyTrustDirOptions): VerifiedRepository {
  requireObject(opts, 'options');
  const { trustDir: given, ...rest } = opts;
  const trustDir = given ?? defaultTrustDir();
  try {
    return verifyRepository({ ...rest, source: trustDirSource(trustDir, opts.gun) });
  } catch (e) {
    throw withSearchedPath(e, trustDir, opts.gun);
  }
}
