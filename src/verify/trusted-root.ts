/**
 * The trusted root: the cached root.json validated alone — trust on first use, or against the
 * caller's pins — or, when the caller holds a trusted root that differs, as a rotation from it
 * through any intermediate versions, each signed to the previous root's threshold
 * (notary-rules.md §6 step 4, §7.2, §7.6). Certificates and signatures: tuf/root.ts; pins:
 * tuf/trust-pinning.ts.
 */
import { TrustError } from '../errors.js';
import { checkExpiry, readDocument, type MetadataDocument } from '../tuf/document.js';
import { readTrustedRoot, validateRoot, type ValidatedRoot } from '../tuf/root.js';
import type { RoleKeys } from '../tuf/threshold.js';
import { readRoleFile, type VerifyContext } from './context.js';
import { checkNotRolledBack } from './rollback.js';
import type { VerifyOptions } from './types.js';

/** The keys and threshold root.json gives a base role (notary-rules.md §4.3). */
export function baseRoleKeys(root: ValidatedRoot, role: 'targets' | 'snapshot' | 'timestamp'): RoleKeys {
  const r = root.signed.roles[role] as { keyids: string[]; threshold: number };
  return { role, keyIds: r.keyids, keys: root.signed.keys, threshold: r.threshold };
}

/**
 * A cached root that differs from the trusted one must be newer: lower is a rollback, the same
 * version with other content a substitution.
 * @throws {TrustError} `ERR_VERSION_ROLLBACK`, `ERR_TRUSTED_STATE_MISMATCH`
 */
function checkNewerThanTrusted(cached: ValidatedRoot, trusted: ValidatedRoot): void {
  if (cached.version > trusted.version) return;
  const rollback = cached.version < trusted.version;
  throw new TrustError(
    rollback ? 'ERR_VERSION_ROLLBACK' : 'ERR_TRUSTED_STATE_MISMATCH',
    rollback
      ? `root version ${cached.version} is lower than the trusted root version ${trusted.version}`
      : `the cached root has the trusted root's version ${trusted.version} but different content`,
    { role: 'root', check: 'trusted root', expected: trusted.version, actual: cached.version },
  );
}

/**
 * The caller's intermediate roots strictly between the trusted and the cached version, one per
 * version: Notary fetches exactly `<v>.root.json` for v = trusted+1 … cached-1 (notary-rules.md §7.6
 * step 2), so the rest are never read, and a server holds one file per version — two different roots
 * claiming one version are refused, whatever order they come in, byte-identical copies count once.
 * @throws {TrustError} `ERR_ROOT_ROTATION_FAILED`
 */
function intermediateSteps(ctx: VerifyContext, trusted: ValidatedRoot, cached: ValidatedRoot, intermediates: readonly Uint8Array[]): ValidatedRoot[] {
  const byVersion = new Map<number, ValidatedRoot>();
  for (const bytes of intermediates) {
    const read = readTrustedRoot(readDocument(bytes, 'root', ctx.parseLimits));
    if (read.version <= trusted.version || read.version >= cached.version) continue;
    const seen = byVersion.get(read.version);
    if (seen !== undefined && !Buffer.from(seen.doc.bytes).equals(read.doc.bytes)) {
      throw new TrustError('ERR_ROOT_ROTATION_FAILED', `two different intermediate roots claim version ${read.version}`, {
        role: 'root',
        check: 'intermediate roots',
        actual: read.version,
      });
    }
    byVersion.set(read.version, read);
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

/** From the trusted root up through the intermediate steps, each validated as a rotation from the one before. */
function rotateThroughIntermediates(ctx: VerifyContext, trusted: ValidatedRoot, cached: ValidatedRoot, intermediates: readonly Uint8Array[]): ValidatedRoot {
  let prev = trusted;
  for (const read of intermediateSteps(ctx, trusted, cached, intermediates)) {
    prev = validateRoot(read.doc, { gun: ctx.gun, now: ctx.now, cache: ctx.cache, prev, read });
  }
  return prev;
}

/**
 * The root the cached one must rotate from, or nothing when there is no trusted root or the
 * cached root is that very root (notary-rules.md §7.6).
 */
function rotationBase(ctx: VerifyContext, opts: VerifyOptions, doc: MetadataDocument): { prev: ValidatedRoot; cached: ValidatedRoot } | undefined {
  const trustedBytes = opts.trustedState ? Buffer.from(opts.trustedState.root, 'utf8') : undefined;
  if (!trustedBytes || trustedBytes.equals(doc.bytes)) return undefined;
  const trusted = readTrustedRoot(readDocument(trustedBytes, 'root', ctx.parseLimits));
  // Read before validation so that a lower version is reported as a rollback.
  const cached = readTrustedRoot(doc);
  checkNewerThanTrusted(cached, trusted);
  return { prev: rotateThroughIntermediates(ctx, trusted, cached, opts.intermediateRoots ?? []), cached };
}

/**
 * Step 1 of the chain: the root every other role's keys come from.
 * @throws {TrustError} the codes of {@link validateRoot}, `ERR_VERSION_ROLLBACK`, `ERR_METADATA_EXPIRED`
 */
export function verifyTrustedRoot(ctx: VerifyContext, opts: VerifyOptions): ValidatedRoot {
  const doc = readDocument(readRoleFile(ctx, 'root', ctx.limits.maxRootBytes, 'size limit'), 'root', ctx.parseLimits);
  const base = rotationBase(ctx, opts, doc);
  const root = validateRoot(doc, {
    gun: ctx.gun,
    now: ctx.now,
    cache: ctx.cache,
    ...(base ? { prev: base.prev, read: base.cached } : {}),
    ...(ctx.pins ? { pins: ctx.pins } : {}),
  });
  checkNotRolledBack(ctx, 'root', root.version);
  checkExpiry(root.expiresMs, root.signed.expires, 'root', ctx.now);
  return root;
}
