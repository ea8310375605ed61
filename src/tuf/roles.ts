/**
 * Role names and delegation paths (notary-rules.md §7.8.1, §7.8.2; Notary `tuf/data/roles.go`).
 */

export const BASE_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
export type BaseRole = (typeof BASE_ROLES)[number];

const DELEGATION_CHARS = /^[-a-z0-9_/]+$/;

/**
 * A valid delegation name: under `targets/`, lower-case `[-a-z0-9_/]` only, shorter than 256
 * bytes, already clean (no empty, `.` or `..` segment, no trailing `/`).
 */
export function isDelegationName(name: string): boolean {
  if (!name.startsWith('targets/') || name.length >= 256 || !DELEGATION_CHARS.test(name)) return false;
  // '.' is outside the character set, so '.' and '..' segments never get here; an empty one can.
  return !name.split('/').includes('');
}

/** `targets/a/b` → `targets/a`; `targets/a` → `targets`. */
export function parentRole(name: string): string {
  return name.slice(0, name.lastIndexOf('/'));
}

/** Plain string prefix match, no globbing, no path segments (notary-rules.md §7.8.2). */
export function pathAllowed(target: string, paths: readonly string[]): boolean {
  for (const p of paths) if (target.startsWith(p)) return true;
  return false;
}

/**
 * A child's effective paths: those of its listed paths that start with one of the parent's
 * effective paths. Others are dropped, not intersected (notary-rules.md §7.8.2).
 */
export function restrictPaths(parent: readonly string[], child: readonly string[]): string[] {
  return child.filter((p) => pathAllowed(p, parent));
}
