/**
 * The visibility predicate shared by the core and the queries (spec §5 notation `visible(d)`).
 *
 * @module
 */
import type { DigestRecord, Principal, PrincipalKind, RepositoryState, Role } from './types.js';

/**
 * Whether a record, on its own, may be served to ordinary users at `now`: `Passed` (and no
 * waiver it rests on has lapsed), or `Released` before its expiry (Q18: `now < expiresAt`).
 *
 * @example
 * ```ts
 * declare const rec: DigestRecord;
 * isRecordVisible(rec, Date.now());
 * ```
 */
export function isRecordVisible(rec: DigestRecord, now: number): boolean {
  if (rec.deleted) return false;
  if (rec.state === 'Passed') return rec.validUntil === undefined || now < rec.validUntil;
  if (rec.state === 'Released') return rec.release !== undefined && now < rec.release.expiresAt;
  return false;
}

/**
 * Effective visibility: the record is visible, every child of an index is (Q11), and the subject
 * of a referrer is. Missing children and cycles count as not visible.
 *
 * @example
 * ```ts
 * import { isVisible, emptyRepository } from 'trustgate/quarantine';
 * isVisible(emptyRepository('app'), 'sha256:ab', Date.now()); // false
 * ```
 */
export function isVisible(state: RepositoryState, digest: string, now: number): boolean {
  return visibleOnPath(state, digest, now, new Set());
}

function visibleOnPath(state: RepositoryState, digest: string, now: number, path: Set<string>): boolean {
  const rec = state.records.get(digest);
  if (rec === undefined || !isRecordVisible(rec, now) || path.has(digest)) return false;
  path.add(digest);
  try {
    for (const child of rec.children) if (!visibleOnPath(state, child, now, path)) return false;
    return rec.subject === undefined || visibleOnPath(state, rec.subject, now, path);
  } finally {
    path.delete(digest);
  }
}

/**
 * The set of effectively visible digests of a repository.
 *
 * @example
 * ```ts
 * import { visibleDigests, emptyRepository } from 'trustgate/quarantine';
 * visibleDigests(emptyRepository('app'), Date.now()).size; // 0
 * ```
 */
export function visibleDigests(state: RepositoryState, now: number): Set<string> {
  const out = new Set<string>();
  for (const d of state.records.keys()) if (isVisible(state, d, now)) out.add(d);
  return out;
}

/**
 * True when the principal holds any of the roles.
 *
 * @example
 * ```ts
 * import { hasRole } from 'trustgate/quarantine';
 * hasRole({ id: 'ci', roles: ['push'] }, 'push'); // true
 * ```
 */
export function hasRole(p: Principal, ...roles: Role[]): boolean {
  return p.roles.some((r) => roles.includes(r));
}

/**
 * Quarantine readers may pull quarantined content by digest; writers are readers too (ACR roles).
 *
 * @example
 * ```ts
 * import { isQuarantineReader } from 'trustgate/quarantine';
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
 * import { principalKind } from 'trustgate/quarantine';
 * principalKind({ id: 'x', roles: [] }); // 'ordinary'
 * ```
 */
export function principalKind(p: Principal): PrincipalKind {
  if (hasRole(p, 'overrider')) return 'overrider';
  if (hasRole(p, 'quarantine-writer')) return 'writer';
  if (hasRole(p, 'quarantine-reader')) return 'reader';
  if (hasRole(p, 'push')) return 'pusher';
  return 'ordinary';
}
