/**
 * The visibility rule shared by the core and the registry view: whether a digest may be served to
 * ordinary principals (quarantine.md §5 notation `visible(d)`, Q11).
 *
 * @module
 */
import type { DigestRecord, RepositoryState } from './types.js';

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
 * of a referrer is (a referrer inherits its subject's visibility and needs no verdict of its own). Missing children and cycles count as not visible. With the quarantine policy
 * `disabled`, every manifest that exists and is not deleted is visible.
 *
 * @example
 * ```ts
 * import { isVisible } from './visibility-rule.js';
 * import { emptyRepository } from './machine.js';
 * isVisible(emptyRepository('app'), 'sha256:ab', Date.now()); // false
 * ```
 */
export function isVisible(state: RepositoryState, digest: string, now: number, status: QuarantineStatus = 'enabled'): boolean {
  return isVisibleIn((d) => state.records.get(d), digest, now, status);
}

/** `QuarantineConfig['status']`: with `disabled`, every manifest that exists is visible (Q23). */
export type QuarantineStatus = 'enabled' | 'disabled';

/**
 * {@link isVisible} over a record lookup (the core's working copy of a repository).
 *
 * @internal
 */
export function isVisibleIn(
  lookup: (digest: string) => DigestRecord | undefined,
  digest: string,
  now: number,
  status: QuarantineStatus = 'enabled',
): boolean {
  const rec = lookup(digest);
  // A plain registry serves whatever was pushed and not deleted, an index whatever its children.
  if (status === 'disabled') return rec !== undefined && !rec.deleted;
  if (rec === undefined || !isOwnVisible(rec, now)) return false;
  // The common case, an image with no children and no subject, needs no path bookkeeping.
  if (rec.children.length === 0 && rec.subject === undefined) return true;
  return visibleOnPath(lookup, digest, now, new Set());
}

/**
 * A record's own part of its visibility. A referrer (a signature, SBOM or scan report with an OCI
 * `subject`) inherits its subject's visibility (quarantine.md §4 goal column, issue 12.4): it
 * needs no passing verdict of its own, only not to be deleted or failed itself.
 */
function isOwnVisible(rec: DigestRecord, now: number): boolean {
  if (rec.subject === undefined) return isRecordVisible(rec, now);
  return !rec.deleted && rec.state !== 'Failed';
}

function visibleOnPath(lookup: (digest: string) => DigestRecord | undefined, digest: string, now: number, path: Set<string>): boolean {
  const rec = lookup(digest);
  if (rec === undefined || !isOwnVisible(rec, now) || path.has(digest)) return false;
  path.add(digest);
  try {
    for (const child of rec.children) if (!visibleOnPath(lookup, child, now, path)) return false;
    return rec.subject === undefined || visibleOnPath(lookup, rec.subject, now, path);
  } finally {
    path.delete(digest);
  }
}

/**
 * The set of effectively visible digests of a repository.
 *
 * @example
 * ```ts
 * import { visibleDigests } from './visibility-rule.js';
 * import { emptyRepository } from './machine.js';
 * visibleDigests(emptyRepository('app'), Date.now()).size; // 0
 * ```
 */
export function visibleDigests(state: RepositoryState, now: number, status: QuarantineStatus = 'enabled'): Set<string> {
  const out = new Set<string>();
  for (const d of state.records.keys()) if (isVisible(state, d, now, status)) out.add(d);
  return out;
}
