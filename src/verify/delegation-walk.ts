/**
 * The targets tree, pre-order depth-first from `targets` (notary-rules.md §7.8.3): a role the
 * snapshot does not list (or lists with no checksum) is skipped with its subtree; in
 * `online-equivalent` mode a delegation failing only on expiry or threshold is dropped with its
 * subtree, as an online client would conclude (notary-rules.md §7.8.4, §7.9).
 */
import { isTrustError } from '../errors.js';
import type { ValidatedRoot } from '../tuf/root.js';
import { restrictPaths } from '../tuf/roles.js';
import type { FileMetaJson, SnapshotSigned } from '../tuf/schema.js';
import type { VerifyContext } from './context.js';
import { checkDelegationCount } from './limits.js';
import { loadTargetsRole, type PendingRole } from './targets-role.js';
import { baseRoleKeys } from './trusted-root.js';
import type { SkippedRole, VerifiedRole } from './types.js';

/** A snapshot entry with neither hashes nor a length means "checksum unknown": Notary skips the role. */
function knownMeta(snapshot: SnapshotSigned, role: string): FileMetaJson | undefined {
  if (!Object.hasOwn(snapshot.meta, role)) return undefined;
  const m = snapshot.meta[role] as FileMetaJson;
  if (role === 'targets') return m;
  return Object.keys(m.hashes).length === 0 && m.length === 0 ? undefined : m;
}

function childrenOf(role: VerifiedRole): PendingRole[] {
  return role.delegations.map((d) => ({
    role: d.name,
    paths: restrictPaths(role.paths, d.paths ?? []),
    keyIds: d.keyids,
    keys: role.delegationKeys,
    threshold: d.threshold,
  }));
}

/** What `online-equivalent` drops: a delegation (never `targets`) that fails only on expiry or threshold. */
function droppable(ctx: VerifyContext, role: string, e: unknown): boolean {
  return (
    ctx.mode === 'online-equivalent' &&
    role !== 'targets' &&
    isTrustError(e) &&
    (e.code === 'ERR_METADATA_EXPIRED' || e.code === 'ERR_THRESHOLD_NOT_MET')
  );
}

/** Step 4: every reachable targets role, in load order, and the ones dropped. */
export function walkDelegations(ctx: VerifyContext, root: ValidatedRoot, snapshot: SnapshotSigned) {
  const roles = new Map<string, VerifiedRole>();
  const skipped: SkippedRole[] = [];
  const stack: PendingRole[] = [{ ...baseRoleKeys(root, 'targets'), paths: [''] }];
  while (stack.length > 0) {
    const pending = stack.shift() as PendingRole;
    const meta = knownMeta(snapshot, pending.role);
    if (!meta || roles.has(pending.role)) continue;
    checkDelegationCount(roles.size, ctx.limits, pending.role);
    let loaded: VerifiedRole;
    try {
      loaded = loadTargetsRole(ctx, pending, meta);
    } catch (e) {
      if (!droppable(ctx, pending.role, e)) throw e;
      skipped.push({ role: pending.role, error: e as SkippedRole['error'] });
      continue;
    }
    roles.set(loaded.name, loaded);
    stack.unshift(...childrenOf(loaded));
  }
  return { roles, skipped };
}
