/**
 * The offline verification chain of one GUN's cached metadata — Notary's client with an
 * unreachable server (spec §7.10): root → timestamp → snapshot → targets → delegations.
 * Pure: bytes come from the injected source, time from the injected clock.
 */
import { TrustError } from '../errors.js';
import { checkFileAgainstMeta, fileTooLarge, metaEntryProblem } from '../tuf/hashes.js';
import { checkExpiry, checkType, checkVersion, parseExpires, readDocument, type DocumentLimits, type MetadataDocument } from '../tuf/document.js';
import { KeyCache } from '../tuf/keys.js';
import { firstPemCertificate, weakCertProblem } from '../crypto/certificate.js';
import { decodeBase64 } from '../tuf/base64.js';
import { readTrustedRoot, validateRoot, type ValidatedRoot } from '../tuf/root.js';
import { isDelegationName, parentRole, restrictPaths } from '../tuf/roles.js';
import {
  parseSigned,
  snapshotSignedSchema,
  targetsSignedSchema,
  type FileMetaJson,
  type SnapshotSigned,
  type TargetsSigned,
  type TufKeyJson,
} from '../tuf/schema.js';
import { targetMapFromIndex, targetMapFromRecord } from '../tuf/target-map.js';
import { verifyThreshold } from '../tuf/threshold.js';
import { boundedMemo } from '../tuf/memo.js';
import {
  DEFAULT_LIMITS,
  type FailurePolicy,
  type RoleSummary,
  type SkippedRole,
  type VerifiedRepository,
  type VerifiedRole,
  type VerifyLimits,
  type VerifyOptions,
} from './types.js';

interface Context {
  gun: string;
  now: Date;
  mode: FailurePolicy;
  limits: VerifyLimits;
  /** What every metadata file is read with (from `limits`). */
  parseLimits: DocumentLimits;
  cache: KeyCache;
  source: VerifyOptions['source'];
  trustedVersions: Readonly<Record<string, number>>;
}

function fetchFile(ctx: Context, role: string, maxBytes: number): Uint8Array {
  const bytes = ctx.source(role, maxBytes);
  if (bytes === undefined) {
    throw new TrustError('ERR_METADATA_NOT_FOUND', `${role}.json is not in the trust cache of ${ctx.gun}`, {
      role,
      check: 'file present',
      path: `${role}.json`,
    });
  }
  if (bytes.length > maxBytes) throw fileTooLarge(role, bytes.length, maxBytes, 'size limit');
  return bytes;
}

function checkNotRolledBack(ctx: Context, role: string, version: number): void {
  const floor = ctx.trustedVersions[role];
  if (floor !== undefined && version < floor) {
    throw new TrustError(
      'ERR_VERSION_ROLLBACK',
      `${role} version ${version} is lower than version ${floor}, which was trusted before`,
      { role, check: 'version floor from trusted state', expected: floor, actual: version },
    );
  }
}

function summary(name: string, signed: { version: number; expires: string }, signedBy: readonly string[]): RoleSummary {
  return { name, version: signed.version, expires: signed.expires, signedBy };
}

/**
 * Root: the cached root validated alone (TOFU, or against pins), or — when the caller holds a
 * trusted root that differs — as a rotation from it through any intermediate versions, each
 * signed to the previous root's threshold (spec §6 step 4, §7.6).
 */
function verifyRoot(ctx: Context, opts: VerifyOptions): ValidatedRoot {
  const { parseLimits } = ctx;
  const doc = readDocument(fetchFile(ctx, 'root', ctx.limits.maxRootBytes), 'root', parseLimits);
  const trustedBytes = opts.trustedState ? Buffer.from(opts.trustedState.root, 'utf8') : undefined;
  let prev: ValidatedRoot | undefined;
  let cached: ValidatedRoot | undefined;
  if (trustedBytes && !trustedBytes.equals(doc.bytes)) {
    prev = readTrustedRoot(readDocument(trustedBytes, 'root', parseLimits));
    // Read before validation so that a lower version is reported as a rollback.
    cached = readTrustedRoot(doc);
    const cachedVersion = cached.version;
    if (cachedVersion <= prev.version) {
      const rollback = cachedVersion < prev.version;
      throw new TrustError(
        rollback ? 'ERR_VERSION_ROLLBACK' : 'ERR_TRUSTED_STATE_MISMATCH',
        rollback
          ? `root version ${cachedVersion} is lower than the trusted root version ${prev.version}`
          : `the cached root has the trusted root's version ${prev.version} but different content`,
        { role: 'root', check: 'trusted root', expected: prev.version, actual: cachedVersion },
      );
    }
    const steps = (opts.intermediateRoots ?? [])
      .map((b) => readDocument(b, 'root', parseLimits))
      .map((d) => readTrustedRoot(d))
      .filter((r) => r.version > (prev as ValidatedRoot).version && r.version < cachedVersion)
      .sort((a, b) => a.version - b.version);
    for (const read of steps) {
      if (read.version > prev.version) prev = validateRoot(read.doc, { gun: ctx.gun, now: ctx.now, cache: ctx.cache, prev, read });
    }
  }
  const root = validateRoot(doc, {
    gun: ctx.gun,
    now: ctx.now,
    cache: ctx.cache,
    ...(prev ? { prev } : {}),
    ...(cached ? { read: cached } : {}),
    ...(opts.pins ? { pins: opts.pins } : {}),
  });
  checkNotRolledBack(ctx, 'root', root.version);
  checkExpiry(root.expiresMs, root.signed.expires, 'root', ctx.now);
  return root;
}

function baseRoleKeys(root: ValidatedRoot, role: string) {
  const r = root.signed.roles[role] as { keyids: string[]; threshold: number };
  return { role, keyIds: r.keyids, keys: root.signed.keys, threshold: r.threshold };
}

/** Timestamp and snapshot share one shape; the structure rules differ only in the entries required. */
function checkMetaStructure(signed: SnapshotSigned, role: 'timestamp' | 'snapshot'): void {
  checkType(signed._type, role);
  checkVersion(signed.version, role);
  for (const name of role === 'timestamp' ? ['snapshot'] : ['root', 'targets']) {
    const problem = metaEntryProblem(signed.meta, name);
    if (problem !== undefined) {
      throw new TrustError('ERR_METADATA_INVALID', `${role}: ${problem}`, { role, check: `${role} meta` });
    }
  }
}

function verifyMetaRole(
  ctx: Context,
  root: ValidatedRoot,
  role: 'timestamp' | 'snapshot',
  doc: MetadataDocument,
): { signed: SnapshotSigned; signedBy: string[] } {
  const signedBy = verifyThreshold(doc.envelope, doc.message(), baseRoleKeys(root, role), ctx.cache);
  const signed = parseSigned(snapshotSignedSchema, doc.envelope.signed, 'snapshot', doc.file, role);
  checkMetaStructure(signed, role);
  checkNotRolledBack(ctx, role, signed.version);
  checkExpiry(parseExpires(signed.expires, role), signed.expires, role, ctx.now);
  return { signed, signedBy };
}

/** `isValidTargetsStructure` applied with the name the file is loaded as (spec §2.4). */
function checkTargetsStructure(signed: TargetsSigned, role: string): void {
  checkType(signed._type, role);
  checkVersion(signed.version, role);
  const d = signed.delegations;
  if (!d) return;
  const seen = new Set<string>();
  for (const entry of d.roles ?? []) {
    // Notary takes the first entry's keys but walks each entry's own paths; rather than copy that
    // split, a name listed twice is refused (stricter than Notary).
    if (seen.has(entry.name)) {
      throw new TrustError('ERR_ROLE_INVALID', `${role} lists delegation ${JSON.stringify(entry.name)} more than once`, {
        role,
        check: 'delegation name',
        actual: entry.name,
      });
    }
    seen.add(entry.name);
    if (!isDelegationName(entry.name) || parentRole(entry.name) !== role) {
      throw new TrustError(
        'ERR_ROLE_INVALID',
        `${role} delegates to ${JSON.stringify(entry.name)}, which is not a valid direct child role name of ${role}`,
        { role, check: 'delegation name', actual: entry.name },
      );
    }
    if (entry.threshold < 1) {
      throw new TrustError('ERR_METADATA_INVALID', `${role}: delegation ${entry.name} has threshold ${entry.threshold}`, {
        role,
        check: 'delegation threshold',
        actual: entry.threshold,
      });
    }
    for (const id of entry.keyids) {
      if (!d.keys || !Object.hasOwn(d.keys, id)) {
        throw new TrustError('ERR_METADATA_INVALID', `${role}: delegation ${entry.name} lists key ${id}, which is not in delegations.keys`, {
          role,
          check: 'delegation keys',
          actual: id,
        });
      }
    }
  }
}

/**
 * Delegation keys that are certificates get Notary's weak checks — no expiry, no CN
 * (spec §7.8.5): an expired delegation certificate is fine, a SHA-1 one is not.
 */
function checkDelegationCerts(role: string, keyIds: readonly string[], keys: Readonly<Record<string, TufKeyJson>>): void {
  for (const id of keyIds) {
    const k = keys[id];
    if (!k || !k.keytype.endsWith('-x509')) continue;
    const problem = delegationCertProblem(k.keyval.public);
    if (problem !== undefined) {
      throw new TrustError('ERR_DELEGATION_CERT_INVALID', `${role}: the certificate of key ${id} is not acceptable: ${problem}`, {
        role,
        check: 'delegation certificate',
        keyIds: [id],
      });
    }
  }
}

// Sibling delegations usually share keys, and a server verifies the same repositories again and
// again: parse each certificate once (the verdict depends on its bytes alone).
const DELEGATION_CERT_PROBLEMS = boundedMemo<string | undefined>(512);
const delegationCertProblem = (publicB64: string): string | undefined =>
  DELEGATION_CERT_PROBLEMS.get(publicB64, () => {
    const cert = firstPemCertificate(decodeBase64(publicB64));
    return cert ? weakCertProblem(cert) : undefined;
  });

interface PendingRole {
  name: string;
  /** Effective paths, already restricted by the parent. */
  paths: string[];
  keyIds: readonly string[];
  keys: Readonly<Record<string, TufKeyJson>>;
  threshold: number;
}

function loadTargetsRole(ctx: Context, pending: PendingRole, meta: FileMetaJson): VerifiedRole {
  const { name } = pending;
  if (name !== 'targets') checkDelegationCerts(name, pending.keyIds, pending.keys);
  const bytes = fetchFile(ctx, name, meta.length);
  checkFileAgainstMeta(bytes, meta, name, 'snapshot');
  const doc = readDocument(bytes, name, { ...ctx.parseLimits, indexed: 'targets' });
  const roleKeys = { role: name, keyIds: pending.keyIds, keys: pending.keys, threshold: pending.threshold };
  let signedBy: string[] = [];
  // Notary checks the top-level targets role's signatures before its structure, and a
  // delegation's structure and version before its signatures (spec §7.1).
  if (name === 'targets') signedBy = verifyThreshold(doc.envelope, doc.message(), roleKeys, ctx.cache);
  const signed = parseSigned(targetsSignedSchema, doc.envelope.signed, 'targets', doc.file, name);
  const targets = doc.indexed ? targetMapFromIndex(doc.indexed, doc.file, name) : targetMapFromRecord(signed.targets);
  checkTargetsStructure(signed, name);
  checkNotRolledBack(ctx, name, signed.version);
  if (name !== 'targets') signedBy = verifyThreshold(doc.envelope, doc.message(), roleKeys, ctx.cache);
  checkExpiry(parseExpires(signed.expires, name), signed.expires, name, ctx.now);
  return {
    name,
    version: signed.version,
    expires: signed.expires,
    signedBy,
    keys: Object.fromEntries(pending.keyIds.filter((id) => Object.hasOwn(pending.keys, id)).map((id) => [id, pending.keys[id] as TufKeyJson])),
    threshold: pending.threshold,
    paths: pending.paths,
    targets,
    delegations: signed.delegations?.roles ?? [],
    delegationKeys: signed.delegations?.keys ?? {},
  };
}

/** A snapshot entry with neither hashes nor a length means "checksum unknown": Notary skips the role. */
function knownMeta(snapshot: SnapshotSigned, role: string): FileMetaJson | undefined {
  if (!Object.hasOwn(snapshot.meta, role)) return undefined;
  const m = snapshot.meta[role] as FileMetaJson;
  return Object.keys(m.hashes).length === 0 && m.length === 0 ? undefined : m;
}

function childrenOf(role: VerifiedRole): PendingRole[] {
  return role.delegations.map((d) => ({
    name: d.name,
    paths: restrictPaths(role.paths, d.paths ?? []),
    keyIds: d.keyids,
    keys: role.delegationKeys,
    threshold: d.threshold,
  }));
}

/**
 * Targets tree, pre-order depth-first from `targets` (spec §7.8.3): roles missing from the
 * snapshot are skipped with their subtree; in `online-equivalent` mode a delegation failing only
 * on expiry or threshold is dropped with its subtree (§7.8.4).
 */
function verifyTargetsTree(ctx: Context, root: ValidatedRoot, snapshot: SnapshotSigned) {
  const roles = new Map<string, VerifiedRole>();
  const skipped: SkippedRole[] = [];
  const top = baseRoleKeys(root, 'targets');
  const stack: PendingRole[] = [{ name: 'targets', paths: [''], keyIds: top.keyIds, keys: top.keys, threshold: top.threshold }];
  while (stack.length > 0) {
    const pending = stack.shift() as PendingRole;
    const meta = pending.name === 'targets' ? (snapshot.meta['targets'] as FileMetaJson) : knownMeta(snapshot, pending.name);
    if (!meta || roles.has(pending.name)) continue;
    if (roles.size > ctx.limits.maxDelegations) {
      throw new TrustError('ERR_METADATA_TOO_LARGE', `more than ${ctx.limits.maxDelegations} delegated roles`, {
        role: pending.name,
        check: 'delegation count',
        expected: ctx.limits.maxDelegations,
      });
    }
    let loaded: VerifiedRole;
    try {
      loaded = loadTargetsRole(ctx, pending, meta);
    } catch (e) {
      const droppable =
        ctx.mode === 'online-equivalent' &&
        pending.name !== 'targets' &&
        e instanceof TrustError &&
        (e.code === 'ERR_METADATA_EXPIRED' || e.code === 'ERR_THRESHOLD_NOT_MET');
      if (!droppable) throw e;
      skipped.push({ role: pending.name, error: e });
      continue;
    }
    roles.set(loaded.name, loaded);
    stack.unshift(...childrenOf(loaded));
  }
  return { roles, skipped };
}

/** Defaults for what is not given; anything given must be a positive integer. */
function resolveLimits(given: Partial<VerifyLimits> | undefined): VerifyLimits {
  const limits: VerifyLimits = { ...DEFAULT_LIMITS };
  for (const k of Object.keys(DEFAULT_LIMITS) as (keyof VerifyLimits)[]) {
    const v = given?.[k];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 1) throw new TrustError('ERR_INVALID_ARGUMENT', `limits.${k} must be a positive integer, got ${String(v)}`);
    limits[k] = v;
  }
  return limits;
}

/**
 * Verifies the cached Notary metadata of one GUN, completely and offline, and returns what was
 * proven. Every failure is a {@link TrustError} naming the role and the check.
 *
 * @example
 * ```ts
 * import { verifyRepository, lookupTarget } from 'trustgate';
 * const repo = verifyRepository({ gun: 'docker.io/acme/app', source: (role) => files[role], now: new Date() });
 * const t = lookupTarget(repo, 'v1'); // { digest: 'sha256:…', role: 'targets', signers: [...] }
 * ```
 * @throws {TrustError} any `ERR_*` verification code; `ERR_INVALID_ARGUMENT` for bad options.
 */
export function verifyRepository(opts: VerifyOptions): VerifiedRepository {
  if (typeof opts.gun !== 'string' || opts.gun.length === 0) {
    throw new TrustError('ERR_INVALID_ARGUMENT', 'gun must be a non-empty string');
  }
  if (!(opts.now instanceof Date) || Number.isNaN(opts.now.getTime())) {
    throw new TrustError('ERR_INVALID_ARGUMENT', 'now must be a valid Date');
  }
  if (typeof opts.source !== 'function') {
    throw new TrustError('ERR_INVALID_ARGUMENT', 'source must be a function (role, maxBytes) => bytes | undefined');
  }
  const mode = opts.mode ?? 'strict';
  if (mode !== 'strict' && mode !== 'online-equivalent') {
    throw new TrustError('ERR_INVALID_ARGUMENT', `mode must be strict or online-equivalent, got ${String(mode)}`);
  }
  if (opts.trustedState && opts.trustedState.gun !== opts.gun) {
    throw new TrustError('ERR_INVALID_ARGUMENT', `trusted state is for ${opts.trustedState.gun}, not ${opts.gun}`);
  }
  const limits = resolveLimits(opts.limits);
  const ctx: Context = {
    gun: opts.gun,
    now: new Date(opts.now.getTime()),
    mode,
    limits,
    parseLimits: { maxDepth: limits.maxJsonDepth, maxSignatures: limits.maxSignatures },
    cache: new KeyCache(),
    source: opts.source,
    trustedVersions: opts.trustedState?.versions ?? {},
  };
  const { parseLimits } = ctx;

  const root = verifyRoot(ctx, opts);

  const tsDoc = readDocument(fetchFile(ctx, 'timestamp', ctx.limits.maxTimestampBytes), 'timestamp', parseLimits);
  const timestamp = verifyMetaRole(ctx, root, 'timestamp', tsDoc);

  const snapMeta = timestamp.signed.meta['snapshot'] as FileMetaJson;
  const snapBytes = fetchFile(ctx, 'snapshot', snapMeta.length);
  checkFileAgainstMeta(snapBytes, snapMeta, 'snapshot', 'timestamp');
  const snapshot = verifyMetaRole(ctx, root, 'snapshot', readDocument(snapBytes, 'snapshot', parseLimits));
  // Offline, a cached root that the cached snapshot does not describe is fatal (spec §7.5).
  checkFileAgainstMeta(root.doc.bytes, snapshot.signed.meta['root'] as FileMetaJson, 'root', 'snapshot');

  const { roles, skipped } = verifyTargetsTree(ctx, root, snapshot.signed);

  const versions: Record<string, number> = { ...ctx.trustedVersions };
  const bump = (role: string, v: number) => {
    versions[role] = Math.max(versions[role] ?? 0, v);
  };
  bump('root', root.version);
  bump('timestamp', timestamp.signed.version);
  bump('snapshot', snapshot.signed.version);
  for (const r of roles.values()) bump(r.name, r.version);

  return {
    gun: ctx.gun,
    verifiedAt: ctx.now,
    mode,
    root: {
      ...summary('root', root.signed, root.signedBy),
      keys: root.signed.keys,
      roles: root.signed.roles as Record<string, { keyids: string[]; threshold: number }>,
    },
    timestamp: summary('timestamp', timestamp.signed, timestamp.signedBy),
    snapshot: summary('snapshot', snapshot.signed, snapshot.signedBy),
    roles,
    skipped,
    trustedState: { gun: ctx.gun, root: Buffer.from(root.doc.bytes).toString('utf8'), versions },
  };
}
