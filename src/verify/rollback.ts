/**
 * Version floors from the caller's trusted state (notary-rules.md §7.7): Notary offline has no
 * memory between runs, so a cache older than one already trusted would pass; trustgate refuses
 * any role whose version is below the highest it returned before.
 */
import { TrustError } from '../errors.js';
import type { VerifyContext } from './context.js';

/** @throws {TrustError} `ERR_VERSION_ROLLBACK` */
export function checkNotRolledBack(ctx: VerifyContext, role: string, version: number): void {
  const floor = ctx.trustedVersions[role];
  if (floor !== undefined && version < floor) {
    throw new TrustError(
      'ERR_VERSION_ROLLBACK',
      `${role} version ${version} is lower than version ${floor}, which was trusted before`,
      { role, check: 'version floor from trusted state', expected: floor, actual: version },
    );
  }
}

/** The floors to save after a success: the highest version seen per role, old floors included. */
export function raisedFloors(ctx: VerifyContext, verified: Iterable<{ name: string; version: number }>): Record<string, number> {
  const versions: Record<string, number> = { ...ctx.trustedVersions };
  for (const r of verified) versions[r.name] = Math.max(versions[r.name] ?? 0, r.version);
  return versions;
}
