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

/**
 * The keys the parent lists for the role, by ID, as the result reports them. Every listed ID has
 * its key: the parent's structure check refused the file otherwise (targets-structure.ts; for the
 * top-level role, root's structure check).
 */
function listedKeys(pending: PendingRole): Record<string, TufKeyJson> {
  return Object.fromEntries(pending.keyIds.map((id) => [id, pending.keys[id] as TufKeyJson]));
}

/** The role file, capped and hashed by the snapshot's entry, then parsed once. */
function readRole(ctx: VerifyContext, pending: PendingRole, meta: FileMetaJson) {
  const bytes = readRoleFile(ctx, pending.role, meta.length, { referrer: 'snapshot' });
  checkFileAgainstMeta(bytes, meta, pending.role, 'snapshot');
  return readDocument(bytes, pending.role, { ...ctx.parseLimits, indexed: 'targets', opaquePath: TARGETS_OPAQUE_PATH });
}

type RoleDocument = ReturnType<typeof readRole>;

/** The signed part's schema, target map, structure and rollback floor. */
function checkRole(ctx: VerifyContext, doc: RoleDocument, name: string) {
  const signed = parseSigned(targetsSignedSchema, doc.envelope.signed, 'targets', doc.file, name);
  const targets = doc.indexed ? targetMapFromIndex(doc.indexed, doc.file, name) : targetMapFromRecord(signed.targets);
  checkTargetsStructure(signed, name);
  checkNotRolledBack(ctx, name, signed.version);
  return { signed, targets };
}

/** Expiry last, then the role as the result reports it. */
function finish(ctx: VerifyContext, pending: PendingRole, checked: ReturnType<typeof checkRole>, signedBy: string[]): VerifiedRole {
  const { signed, targets } = checked;
  const expiresMs = parseExpires(signed.expires, pending.role);
  checkExpiry(expiresMs, signed.expires, pending.role, ctx.now);
  return {
    name: pending.role,
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

/** @throws {TrustError} any code of the checks above */
export function loadTargetsRole(ctx: VerifyContext, pending: PendingRole, meta: FileMetaJson): VerifiedRole {
  return pending.role === 'targets' ? loadTopTargets(ctx, pending, meta) : loadDelegation(ctx, pending, meta);
}

/** `targets`: signatures before structure (notary-rules.md §7.1). */
function loadTopTargets(ctx: VerifyContext, pending: PendingRole, meta: FileMetaJson): VerifiedRole {
  const doc = readRole(ctx, pending, meta);
  const signedBy = verifyThreshold(doc.envelope, doc.message(), pending, ctx.cache);
  return finish(ctx, pending, checkRole(ctx, doc, pending.role), signedBy);
}

/** A delegation: its certificates first, then structure and version before signatures (notary-rules.md §7.1). */
function loadDelegation(ctx: VerifyContext, pending: PendingRole, meta: FileMetaJson): VerifiedRole {
  checkDelegationCerts(pending.role, pending.keyIds, pending.keys);
  const doc = readRole(ctx, pending, meta);
  const checked = checkRole(ctx, doc, pending.role);
  const signedBy = verifyThreshold(doc.envelope, doc.message(), pending, ctx.cache);
  return finish(ctx, pending, checked, signedBy);
}
