/**
 * The offline verification chain of one GUN's cached metadata — Notary's client with an
 * unreachable server (notary-rules.md §7.10), as a list of steps. Each step lives in the file
 * named after its rule:
 *
 * 1. the trusted root — TOFU, pins, rotation (trusted-root.ts, tuf/root.ts, tuf/trust-pinning.ts);
 * 2. timestamp, then snapshot, then the root as the snapshot lists it (timestamp-snapshot.ts);
 * 3. the targets tree, pre-order from `targets` (delegation-walk.ts, targets-role.ts,
 *    targets-structure.ts, delegation-certs.ts);
 * 4. version floors from the caller's trusted state, checked in every step (rollback.ts).
 *
 * Pure: bytes come from the injected source, time from the injected clock.
 */
import type { ValidatedRoot } from '../tuf/root.js';
import { createContext, type VerifyContext } from './context.js';
import { walkDelegations } from './delegation-walk.js';
import { raisedFloors } from './rollback.js';
import { checkRootInSnapshot, verifySnapshot, verifyTimestamp, type VerifiedMetaRole } from './timestamp-snapshot.js';
import { verifyTrustedRoot } from './trusted-root.js';
import type { RoleSummary, VerifiedRepository, VerifiedRole, VerifyOptions } from './types.js';

function summary(name: string, signed: { version: number; expires: string }, expiresMs: number, signedBy: readonly string[]): RoleSummary {
  return { name, version: signed.version, expires: signed.expires, expiresAt: new Date(expiresMs), signedBy };
}

/** What was proven, in the shape callers read, with the floors to remember. */
function result(
  ctx: VerifyContext,
  root: ValidatedRoot,
  timestamp: VerifiedMetaRole,
  snapshot: VerifiedMetaRole,
  tree: { roles: Map<string, VerifiedRole>; skipped: VerifiedRepository['skipped'] },
): VerifiedRepository {
  const versions = raisedFloors(ctx, [
    { name: 'root', version: root.version },
    { name: 'timestamp', version: timestamp.signed.version },
    { name: 'snapshot', version: snapshot.signed.version },
    ...tree.roles.values(),
  ]);
  return {
    gun: ctx.gun,
    verifiedAt: ctx.now,
    mode: ctx.mode,
    root: {
      ...summary('root', root.signed, root.expiresMs, root.signedBy),
      keys: root.signed.keys,
      roles: root.signed.roles as Record<string, { keyids: string[]; threshold: number }>,
    },
    timestamp: summary('timestamp', timestamp.signed, timestamp.expiresMs, timestamp.signedBy),
    snapshot: summary('snapshot', snapshot.signed, snapshot.expiresMs, snapshot.signedBy),
    roles: tree.roles,
    skipped: tree.skipped,
    trustedState: { gun: ctx.gun, root: Buffer.from(root.doc.bytes).toString('utf8'), versions },
  };
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
  const ctx = createContext(opts);
  const root = verifyTrustedRoot(ctx, opts);
  const timestamp = verifyTimestamp(ctx, root);
  const snapshot = verifySnapshot(ctx, root, timestamp);
  checkRootInSnapshot(root, snapshot);
  const tree = walkDelegations(ctx, root, snapshot.signed);
  return result(ctx, root, timestamp, snapshot, tree);
}
