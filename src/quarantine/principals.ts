/**
 * Roles and principals: what a principal may do, and how audit records describe it
 * (quarantine.md §1.4, §4 "Roles / visibility").
 *
 * @module
 */
import type { Principal, PrincipalKind, Role } from './types.js';

/**
 * True when the principal holds any of the roles.
 *
 * @example
 * ```ts
 * import { hasRole } from './principals.js';
 * hasRole({ id: 'ci', roles: ['push'] }, 'push'); // true
 * ```
 */
export function hasRole(p: Principal, ...roles: Role[]): boolean {
  for (const r of p.roles) if (roles.includes(r)) return true;
  return false;
}

/**
 * Quarantine readers may pull quarantined content by digest; writers are readers too (ACR roles).
 *
 * @example
 * ```ts
 * import { isQuarantineReader } from './principals.js';
 * isQuarantineReader({ id: 's', roles: ['quarantine-writer'] }); // true
 * ```
 */
export function isQuarantineReader(p: Principal): boolean {
  return hasRole(p, 'quarantine-reader', 'quarantine-writer');
}

/**
 * The principal kind written to audit records: the strongest role held.
 *
 * @example
 * ```ts
 * import { principalKind } from './principals.js';
 * principalKind({ id: 'x', roles: [] }); // 'ordinary'
 * ```
 */
export function principalKind(p: Principal): PrincipalKind {
  let rank = 0;
  for (const r of p.roles) rank = Math.max(rank, KIND_RANK.get(r) ?? 0);
  return KINDS[rank] ?? 'ordinary';
}

/** Strength of each role for {@link principalKind}; the strongest held role names the kind. */
const KIND_RANK: ReadonlyMap<string, number> = new Map([
  ['push', 1],
  ['quarantine-reader', 2],
  ['quarantine-writer', 3],
  ['overrider', 4],
  ['quarantine-admin', 5],
]);
const KINDS: readonly PrincipalKind[] = ['ordinary', 'pusher', 'reader', 'writer', 'overrider', 'admin'];
