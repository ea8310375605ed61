/**
 * `fetchTrustData`: the Notary client's update (notary-rules.md §7.2–§7.8) against a notary-server, with
 * trustgate's rules on top: everything is staged in memory, the whole set is verified by
 * `verifyRepository` against the trusted state, and only then committed to the cache, timestamp
 * last. A failure leaves the cache and the trusted-state record as they were.
 */
import { join, relative, resolve, isAbsolute, sep } from 'node:path';
import { TrustError, isTrustError } from '../errors.js';
import { defaultTrustDir, trustDirSource } from '../trust-dir/reader.js';
import { verifyRepository } from '../verify/repository.js';
import { DEFAULT_LIMITS, type TrustedState, type VerifiedRepository, type VerifyOptions } from '../verify/types.js';
import { dockerConfigCredentials, defaultDockerConfigDir, TokenAuth } from './auth.js';
import { NotaryClient } from './client.js';
import { commitMetadata } from './commit.js';
import { isDelegationRole, peekDelegations, peekMeta, peekVersion, type MetaEntry } from './peek.js';
import { checkRootKeyPins, digest } from '../verify/index.js';
import { checkGun, pickServer } from './server.js';
import { defaultStateDir, readTrustedState, stateFile, writeTrustedState, type TrustedStateRecord } from './state.js';
import { withFetchLocks } from './lock.js';
import { Transport } from './transport.js';
import type { FetchOptions, FetchResult, RoleChange } from './types.js';

const DEFAULTS = { timeoutMs: 30_000, deadlineMs: 120_000, retries: 2, backoffMs: 200, maxRootRotations: 64 };

/** Errors after which `allowStale` may let the existing cache stand in: the server is not there. */
const UNAVAILABLE = new Set(['ERR_FETCH_UNREACHABLE', 'ERR_FETCH_TIMEOUT', 'ERR_FETCH_SERVER']);

interface Staged {
  files: Map<string, Uint8Array>;
  from: Map<string, 'cache' | 'network'>;
  intermediateRoots: Uint8Array[];
}

function positiveInt(name: string, v: number | undefined, fallback: number, min = 1): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < min) throw new TrustError('ERR_INVALID_ARGUMENT', `${name} must be an integer ≥ ${min}, got ${String(v)}`);
  return v;
}

/**
 * `bytes` fit `entry`'s length and match every sha256/sha512 it lists, at least one (the verifier
 * checks again; this only decides reuse). As Notary's cache-then-remote load (notary-rules.md §7.4,
 * §7.5), a delegation listed with only a sha512 is reused on that hash; with neither, never.
 */
function matches(bytes: Uint8Array, entry: MetaEntry): boolean {
  if (bytes.length > entry.length || Object.keys(entry.hex).length === 0) return false;
  return Object.entries(entry.hex).every(([alg, hex]) => Buffer.from(digest(alg as 'sha256' | 'sha512', bytes)).toString('hex') === hex);
}

/**
 * Brings the trust cache of one GUN up to date from a notary-server, verifies it completely and
 * commits it in notary's own layout, so that `notary list` and `trustgate verify` read it offline.
 *
 * @example
 * ```ts
 * import { fetchTrustData } from 'trustgate/fetch';
 * import { lookupTarget } from 'trustgate';
 * const r = await fetchTrustData({ gun: 'registry.example.com/team/app', now: new Date() });
 * console.log(lookupTarget(r.repository, 'v1').digest, r.rootRotated, r.bytesDownloaded);
 * ```
 * @throws {TrustError} `ERR_FETCH_*` for transport and server problems, any verification code for
 *   bad trust data (`ERR_VERSION_ROLLBACK`, `ERR_METADATA_EXPIRED`, `ERR_HASH_MISMATCH`, …),
 *   `ERR_INVALID_ARGUMENT` for bad options.
 */
export async function fetchTrustData(opts: FetchOptions): Promise<FetchResult> {
  const run = prepare(opts);
  // One fetch of a GUN at a time (lock.ts): a second one waits, then starts from the first's commit.
  const where = { gun: run.gun, stateDir: run.stateDir, metadataDir: run.metadataDir, deadline: run.deadline, signal: opts.signal };
  return withFetchLocks(where, async (lockHeld) => {
    const record = readTrustedState({ gun: run.gun, stateDir: run.stateDir });
    const anchor = trustedAnchor(record, run.gun, opts.now, run.cached, run.limits.maxRootBytes);
    const staged = await stage(run, opts, anchor, record);
    if ('stale' in staged) return staged.stale;
    const repository = verifyRepository({
      ...run.verifyBase,
      source: (role) => staged.files.get(role),
      ...(anchor ? { trustedState: anchor } : opts.pins ? { pins: opts.pins } : {}),
      intermediateRoots: staged.intermediateRoots,
    });
    if (!anchor && opts.pins?.rootPublicKeys) checkRootKeyPins(repository, opts.pins.rootPublicKeys);
    lockHeld();
    const written = commit(run, opts, record, staged, repository);
    return result(run, repository, anchor, staged, written);
  });
}

/** One fetch's fixed inputs: the checked options, the client, and the cache as it is now. */
interface Run {
  gun: string;
  server: URL;
  trustDir: string;
  stateDir: string;
  metadataDir: string;
  /** Epoch ms (machine clock) by which the whole fetch, waiting for the lock included, must be done. */
  deadline: number;
  limits: typeof DEFAULT_LIMITS;
  maxRootRotations: number;
  transport: Transport;
  client: NotaryClient;
  /** The cached copy of a role, read lazily and at most once; undefined when absent or unusable. */
  cached: (role: string, cap: number) => Uint8Array | undefined;
  verifyBase: Omit<VerifyOptions, 'source'>;
}

function prepare(opts: FetchOptions): Run {
  checkGun(opts.gun);
  if (!(opts.now instanceof Date) || Number.isNaN(opts.now.getTime())) throw new TrustError('ERR_INVALID_ARGUMENT', 'now must be a valid Date');
  const gun = opts.gun;
  const { server, tlsCa: registryCa } = pickServer(gun, opts.server, opts.registries);
  const trustDir = resolve(opts.trustDir ?? defaultTrustDir());
  const stateDir = resolve(opts.stateDir ?? defaultStateDir());
  const rel = relative(trustDir, stateDir);
  // Whoever can write the cache must not also be able to lower the floor (docs/SECURITY.md).
  // Outside means `..` as a whole first segment: `..state` is a directory inside.
  const outside = rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  if (!outside) {
    throw new TrustError('ERR_INVALID_ARGUMENT', `the state directory ${stateDir} must not be inside the trust directory ${trustDir}`);
  }
  const deadline = Date.now() + positiveInt('deadlineMs', opts.deadlineMs, DEFAULTS.deadlineMs);
  const transport = new Transport({
    timeoutMs: positiveInt('timeoutMs', opts.timeoutMs, DEFAULTS.timeoutMs),
    deadline,
    retries: positiveInt('retries', opts.retries, DEFAULTS.retries, 0),
    backoffMs: positiveInt('backoffMs', opts.backoffMs, DEFAULTS.backoffMs, 0),
    ca: [opts.tlsCa, registryCa].filter((c) => c !== undefined).join('\n') || undefined,
    signal: opts.signal,
    proxyEnv: opts.proxyEnv ?? process.env,
  });
  return {
    gun,
    server,
    trustDir,
    stateDir,
    metadataDir: join(trustDir, 'tuf', ...gun.split('/'), 'metadata'),
    deadline,
    limits: { ...DEFAULT_LIMITS, ...opts.limits },
    maxRootRotations: positiveInt('maxRootRotations', opts.maxRootRotations, DEFAULTS.maxRootRotations),
    transport,
    client: new NotaryClient(transport, server, gun, tokenAuth(opts, transport, server)),
    cached: cacheReader(trustDir, gun),
    verifyBase: { gun, now: opts.now, mode: opts.mode ?? 'strict', limits: opts.limits ?? {} },
  };
}

/** docker's token flow for `repository:<GUN>:pull`, credentials from the options or the docker config. */
function tokenAuth(opts: FetchOptions, transport: Transport, server: URL): TokenAuth {
  const registry = opts.gun.split('/')[0] as string;
  const configDir = opts.dockerConfigDir ?? defaultDockerConfigDir();
  const credentials = async () => opts.auth ?? (configDir === false ? undefined : dockerConfigCredentials(registry, configDir));
  return new TokenAuth(transport, `repository:${opts.gun}:pull`, credentials, server.protocol === 'http:');
}

function cacheReader(trustDir: string, gun: string): Run['cached'] {
  const source = trustDirSource(trustDir, gun);
  const bytes = new Map<string, Uint8Array | undefined>();
  return (role, cap) => {
    if (!bytes.has(role)) {
      let b: Uint8Array | undefined;
      try {
        b = source(role, cap);
      } catch {
        // An unreadable or unsafe cache file is simply not reused (the reader throws only TrustErrors).
      }
      bytes.set(role, b);
    }
    return bytes.get(role);
  };
}

/** Downloads into memory; a failure is reported as what it is about (the data, or the server). */
async function stage(run: Run, opts: FetchOptions, anchor: TrustedState | undefined, record: TrustedStateRecord | undefined): Promise<Staged | { stale: FetchResult }> {
  const staged: Staged = { files: new Map(), from: new Map(), intermediateRoots: [] };
  const { limits } = run;
  try {
    const progress = (role: string) => opts.onProgress?.({ gun: run.gun, role, files: staged.files.size, bytes: run.transport.bytesReceived });
    const caps = { maxRootBytes: limits.maxRootBytes, maxTimestampBytes: limits.maxTimestampBytes, maxDelegations: limits.maxDelegations, maxRootRotations: run.maxRootRotations };
    await download(staged, run.client, anchor?.root, run.cached, caps, progress);
    return staged;
  } catch (e) {
    // Only for answers that are about the data; a network problem stays a network problem
    // (and may let allowStale apply), even when a root rotation was half fetched.
    if (isTrustError(e) && (e.code === 'ERR_FETCH_NOT_FOUND' || e.code === 'ERR_FETCH_TOO_LARGE')) {
      const earlier = problemBefore(staged, anchor, run.verifyBase);
      if (earlier) throw earlier;
    }
    if (opts.allowStale && isTrustError(e) && UNAVAILABLE.has(e.code)) {
      const { gun, trustDir, metadataDir, stateDir, transport } = run;
      return { stale: await staleFallback(e, opts, record, { gun, server: run.server.href, trustDir, metadataDir, stateDir, transport }) };
    }
    throw e;
  }
}

/** Writes what the verifier read (timestamp last), then the new trusted-state record; returns the roles written. */
function commit(run: Run, opts: FetchOptions, record: TrustedStateRecord | undefined, staged: Staged, repository: VerifiedRepository): Set<string> {
  const { gun, stateDir } = run;
  // The lock keeps other trustgate fetches out; a record written behind it (by hand, by an
  // older trustgate) may hold a higher floor than the one verified against here: keep it.
  if (JSON.stringify(readTrustedState({ gun, stateDir })) !== JSON.stringify(record)) {
    throw new TrustError('ERR_FETCH_CACHE_WRITE', `the trusted-state record of ${gun} changed while this fetch ran (written without the lock); nothing written, try again`, {
      check: 'concurrent commit',
      path: stateFile(stateDir, gun),
    });
  }
  // Only what the verifier read is committed: roles it never reached stay out of the cache.
  const verifiedRoles = new Set(['root', 'timestamp', 'snapshot', ...repository.roles.keys()]);
  const toCommit = new Map([...staged.files].filter(([role]) => verifiedRoles.has(role)));
  const written = new Set(
    commitMetadata(run.metadataDir, toCommit, (role, bytes) => {
      const old = run.cached(role, Math.max(bytes.length, 1));
      return old !== undefined && Buffer.from(old).equals(bytes);
    }),
  );
  writeTrustedState(stateDir, {
    format: 1,
    gun,
    trustedState: repository.trustedState,
    timestampExpires: repository.timestamp.expires,
    fetchedAt: opts.now.toISOString(),
    server: run.server.href,
  });
  return written;
}

function result(run: Run, repository: VerifiedRepository, anchor: TrustedState | undefined, staged: Staged, written: Set<string>): FetchResult {
  const before = anchorVersions(anchor);
  const roles = roleChanges(repository, before, (role) => ({ from: staged.from.get(role) ?? 'network', written: written.has(role) }));
  return {
    gun: run.gun,
    server: run.server.href,
    repository,
    roles,
    // No root before (a first fetch): nothing rotated.
    rootRotated: repository.root.version > (before['root'] ?? Infinity),
    changed: written.size > 0,
    bytesDownloaded: run.transport.bytesReceived,
    requests: run.transport.requests,
    metadataDir: run.metadataDir,
    stateFile: stateFile(run.stateDir, run.gun),
  };
}

/**
 * What the new data must extend: the trusted-state record when there is one; else — as Notary
 * does — the cached root, with the version floors of the cache if it still verifies.
 */
function trustedAnchor(
  record: TrustedStateRecord | undefined,
  gun: string,
  now: Date,
  cached: (role: string, cap: number) => Uint8Array | undefined,
  maxRootBytes: number,
): TrustedState | undefined {
  if (record) return record.trustedState;
  const root = cached('root', maxRootBytes);
  if (!root) return undefined;
  try {
    return verifyRepository({ gun, now, source: (role, cap) => cached(role, cap) }).trustedState;
  } catch {
    return { gun, root: Buffer.from(root).toString('utf8'), versions: {} };
  }
}

/**
 * A download failed part-way with a missing or oversized file. Notary verifies each role before it
 * asks for the next, so a forged timestamp pointing at files that do not exist is reported as forged:
 * verify what was staged (with the trusted root where a new one could not be had) and return
 * its first problem, unless that problem is only the file that never arrived.
 */
function problemBefore(staged: Staged, anchor: TrustedState | undefined, base: Omit<VerifyOptions, 'source'>): TrustError | undefined {
  const files = new Map(staged.files);
  if (anchor && !files.has('root')) files.set('root', Buffer.from(anchor.root, 'utf8'));
  try {
    verifyRepository({ ...base, source: (role) => files.get(role), ...(anchor ? { trustedState: anchor } : {}) });
  } catch (e) {
    if (isTrustError(e) && e.code !== 'ERR_METADATA_NOT_FOUND') return e;
  }
  return undefined;
}

/** The floors before this fetch, with the trusted root's own version (a cache-derived anchor may lack it). */
function anchorVersions(anchor: TrustedState | undefined): Record<string, number> {
  if (!anchor) return {};
  const root = peekVersion(Buffer.from(anchor.root, 'utf8'));
  return { ...anchor.versions, ...(root === undefined ? {} : { root }) };
}

interface DownloadLimits {
  maxRootBytes: number;
  maxTimestampBytes: number;
  maxDelegations: number;
  maxRootRotations: number;
}

/**
 * Stages timestamp → snapshot → root (when it rotated, through `<N>.root.json`) → targets →
 * delegations, each by checksum name where the referrer gives a hash, each capped at the length
 * its referrer allows. A referenced file whose cached copy has the right hashes is not downloaded.
 */
async function download(
  staged: Staged,
  client: NotaryClient,
  trustedRoot: string | undefined,
  cached: (role: string, cap: number) => Uint8Array | undefined,
  limits: DownloadLimits,
  progress: (role: string) => void,
): Promise<Staged> {
  const { files, from, intermediateRoots } = staged;
  const put = (role: string, bytes: Uint8Array, origin: 'cache' | 'network') => {
    files.set(role, bytes);
    from.set(role, origin);
    progress(role);
  };
  const byReference = async (role: string, entry: MetaEntry): Promise<Uint8Array> => {
    const old = cached(role, entry.length);
    if (old && matches(old, entry)) {
      put(role, old, 'cache');
      return old;
    }
    const sha = entry.hex['sha256'];
    const bytes = await client.getFile(sha === undefined ? role : `${role}.${sha}`, entry.length, role);
    put(role, bytes, 'network');
    return bytes;
  };

  // notary-rules.md §7.2: no trusted root yet → root.json by its plain name, fixed cap.
  const trustedRootBytes = trustedRoot === undefined ? undefined : Buffer.from(trustedRoot, 'utf8');
  if (!trustedRootBytes) put('root', await client.getFile('root', limits.maxRootBytes, 'root'), 'network');

  // notary-rules.md §7.4: the timestamp always comes from the server, by its plain name, 1 MiB cap.
  const ts = await client.getFile('timestamp', limits.maxTimestampBytes, 'timestamp');
  put('timestamp', ts, 'network');
  const snapEntry = peekMeta(ts)?.['snapshot'];
  if (!snapEntry) return staged;
  const snapMeta = peekMeta(await byReference('snapshot', snapEntry));
  if (!snapMeta) return staged;

  // notary-rules.md §7.5/§7.6: the snapshot names the root; a different one than ours means a rotation.
  const rootEntry = snapMeta['root'];
  if (trustedRootBytes && rootEntry && !matches(trustedRootBytes, rootEntry)) {
    const newest = await byReference('root', rootEntry);
    const fromVersion = peekVersion(trustedRootBytes);
    const toVersion = peekVersion(newest);
    // Unreadable versions: nothing to walk; the verifier reports what is wrong with the root.
    if (fromVersion !== undefined && toVersion !== undefined) {
      if (toVersion - fromVersion - 1 > limits.maxRootRotations) {
        throw new TrustError('ERR_METADATA_TOO_LARGE', `root rotates from version ${fromVersion} to ${toVersion}, more than ${limits.maxRootRotations} steps`, {
          role: 'root',
          check: 'root rotation count',
          expected: limits.maxRootRotations,
          actual: toVersion - fromVersion - 1,
        });
      }
      for (let v = fromVersion + 1; v < toVersion; v++) intermediateRoots.push(await client.getFile(`${v}.root`, limits.maxRootBytes, 'root'));
    }
  } else if (trustedRootBytes) {
    put('root', trustedRootBytes, 'cache');
  }

  // notary-rules.md §7.8.3: targets, then delegations depth-first; roles without a snapshot entry are not fetched.
  const targetsEntry = snapMeta['targets'];
  if (!targetsEntry) return staged;
  const stack: Uint8Array[] = [await byReference('targets', targetsEntry)];
  let loaded = 0;
  while (stack.length > 0) {
    const bytes = stack.shift() as Uint8Array;
    const children: Uint8Array[] = [];
    for (const name of peekDelegations(bytes) ?? []) {
      const entry = snapMeta[name];
      if (!isDelegationRole(name) || files.has(name) || !entry || (entry.length === 0 && Object.keys(entry.hex).length === 0)) continue;
      if (++loaded > limits.maxDelegations) return staged; // the verifier reports the count
      children.push(await byReference(name, entry));
    }
    stack.unshift(...children);
  }
  return staged;
}

function roleChanges(
  repo: VerifiedRepository,
  before: Readonly<Record<string, number>>,
  how: (role: string) => { from: 'cache' | 'network'; written: boolean },
): RoleChange[] {
  const list: [string, number][] = [
    ['root', repo.root.version],
    ['timestamp', repo.timestamp.version],
    ['snapshot', repo.snapshot.version],
    ...[...repo.roles.values()].map((r): [string, number] => [r.name, r.version]),
  ];
  return list.map(([role, after]) => ({ role, before: before[role], after, ...how(role) }));
}

async function staleFallback(
  error: TrustError,
  opts: FetchOptions,
  record: TrustedStateRecord | undefined,
  where: { gun: string; server: string; trustDir: string; metadataDir: string; stateDir: string; transport: Transport },
): Promise<FetchResult> {
  const maxAgeMs = (opts.allowStale as { maxAgeMs: number }).maxAgeMs;
  if (!Number.isSafeInteger(maxAgeMs) || maxAgeMs < 0) throw new TrustError('ERR_INVALID_ARGUMENT', `allowStale.maxAgeMs must be an integer ≥ 0, got ${String(maxAgeMs)}`);
  // Without a record there is no verified fetch to be stale from.
  if (!record) throw error;
  const ageMs = opts.now.getTime() - Date.parse(record.fetchedAt);
  if (!(ageMs <= maxAgeMs)) throw error;
  const repository = verifyRepository({
    gun: where.gun,
    now: opts.now,
    mode: opts.mode ?? 'strict',
    limits: opts.limits ?? {},
    source: trustDirSource(where.trustDir, where.gun),
    trustedState: record.trustedState,
  });
  const roles = roleChanges(repository, anchorVersions(record.trustedState), () => ({ from: 'cache', written: false }));
  return {
    gun: where.gun,
    server: where.server,
    repository,
    roles,
    rootRotated: false,
    changed: false,
    bytesDownloaded: where.transport.bytesReceived,
    requests: where.transport.requests,
    metadataDir: where.metadataDir,
    stateFile: stateFile(where.stateDir, where.gun),
    stale: { error, fetchedAt: record.fetchedAt, ageMs },
  };
}
