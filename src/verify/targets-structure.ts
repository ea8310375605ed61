/**
 * Notary's `isValidTargetsStructure`, applied with the name the file is loaded as
 * (notary-rules.md §2.4, §7.8.1): `_type` and version, then each delegation entry — a valid
 * direct child name of this role, listed once, threshold at least 1, every key ID present in
 * `delegations.keys`.
 */
import { TrustError } from '../errors.js';
import { checkType, checkVersion } from '../tuf/document.js';
import { isDelegationName, parentRole } from '../tuf/roles.js';
import type { DelegationRoleJson, TargetsSigned, TufKeyJson } from '../tuf/schema.js';

function checkDelegationEntry(role: string, entry: DelegationRoleJson, keys: Readonly<Record<string, TufKeyJson>> | null): void {
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
    if (!keys || !Object.hasOwn(keys, id)) {
      throw new TrustError('ERR_METADATA_INVALID', `${role}: delegation ${entry.name} lists key ${id}, which is not in delegations.keys`, {
        role,
        check: 'delegation keys',
        actual: id,
      });
    }
  }
}

/** @throws {TrustError} `ERR_METADATA_INVALID`, `ERR_ROLE_INVALID` */
export function checkTargetsStructure(signed: TargetsSigned, role: string): void {
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
    checkDelegationEntry(role, entry, d.keys);
  }
}
