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
 * From the trusted root up through the caller's intermediate roots that lie strictly between it
 * and the cached one, in version order, each validated as a rotation from the one before.
 */
function rotateThroughIntermediates(ctx: VerifyContext, trusted: ValidatedRoot, cached: ValidatedRoot, intermediates: readonly Uint8Array[]): ValidatedRoot {
  const steps = intermediates
    .map((b) => readTrustedRoot(readDocument(b, 'root', ctx.parseLimits)))
    .filter((r) => r.version > trusted.version && r.version < cached.version)
    .sort((a, b) => a.version - b.version);
  let prev = trusted;
  for (const read of steps) {
    if (read.version > prev.version) prev = validateRoot(read.doc, { gun: ctx.gun, now: ctx.now, cache: ctx.cache, prev, read });
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
