/**
 * One targets role, top-level or delegated, loaded in Notary's order (notary-rules.md §7.1):
 * delegation certificates, the file capped and hashed by the snapshot's entry, then — for
 * `targets` — signatures before structure, and for a delegation structure and version before
 * signatures; expiry last.
 */
import { checkExpiry, parseExpires, readDocument, TARGETS_OPAQUE_PATH } from '../tuf/document.js';
import { checkFileAgainstMeta } from '../tuf/hashes.js';
import { parseSigned, targetsSignedSchema, type FileMetaJson, type TufKeyJson } from '../tuf/schema.js';
import { targetMapFromIndex, targetMapFromRecord } from '../tuf/target-map.js';
import { verifyThreshold, type RoleKeys } from '../tuf/threshold.js';
import { readRoleFile, type VerifyContext } from './context.js';
import { checkDelegationCerts } from './delegation-certs.js';
import { checkNotRolledBack } from './rollback.js';
import { checkTargetsStructure } from './targets-structure.js';
import type { VerifiedRole } from './types.js';

/** A role to load: its keys and threshold from the parent, and its effective paths. */
export interface PendingRole extends RoleKeys {
  /** Effective paths, already restricted by the parent (notary-rules.md §7.8.2). */
  paths: string[];
}

/** The keys the parent lists for the role, by ID, as the result reports them. */
function listedKeys(pending: PendingRole): Record<string, TufKeyJson> {
  const { keyIds, keys } = pending;
  return Object.fromEntries(keyIds.filter((id) => Object.hasOwn(keys, id)).map((id) => [id, keys[id] as TufKeyJson]));
}

/** @throws {TrustError} any code of the checks above */
export function loadTargetsRole(ctx: VerifyContext, pending: PendingRole, meta: FileMetaJson): VerifiedRole {
  const name = pending.role;
  const top = name === 'targets';
  if (!top) checkDelegationCerts(name, pending.keyIds, pending.keys);
  const bytes = readRoleFile(ctx, name, meta.length, { referrer: 'snapshot' });
  checkFileAgainstMeta(bytes, meta, name, 'snapshot');
  const doc = readDocument(bytes, name, { ...ctx.parseLimits, indexed: 'targets', opaquePath: TARGETS_OPAQUE_PATH });
  let signedBy = top ? verifyThreshold(doc.envelope, doc.message(), pending, ctx.cache) : [];
  const signed = parseSigned(targetsSignedSchema, doc.envelope.signed, 'targets', doc.file, name);
  const targets = doc.indexed ? targetMapFromIndex(doc.indexed, doc.file, name) : targetMapFromRecord(signed.targets);
  checkTargetsStructure(signed, name);
  checkNotRolledBack(ctx, name, signed.version);
  if (!top) signedBy = verifyThreshold(doc.envelope, doc.message(), pending, ctx.cache);
  const expiresMs = parseExpires(signed.expires, name);
  checkExpiry(expiresMs, signed.expires, name, ctx.now);
  return {
    name,
    version: signed.version,
    expires: signed.expires,
    expiresAt: new Date(expiresMs),
    signedBy,
    keys: listedKeys(pending),
    threshold: pending.threshold,
    paths: pending.paths,
    targets,
    delegations: signed.delegations?.roles ?? [],
    delegationKeys: signed.delegations?.keys ?? {},
  };
}
