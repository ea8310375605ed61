/**
 * Timestamp and snapshot, the roles that pin the rest: each signed to the threshold root.json
 * gives it, structurally valid (`IsValidTimestampStructure`, `IsValidSnapshotStructure`), not
 * below a trusted version and not expired; the snapshot file must match what the timestamp
 * lists for it, and the cached root what the snapshot lists (notary-rules.md §7.1, §7.5, §7.10).
 */
import { TrustError } from '../errors.js';
import { checkExpiry, checkType, checkVersion, parseExpires, readDocument, type MetadataDocument } from '../tuf/document.js';
import { checkFileAgainstMeta, metaEntryProblem } from '../tuf/hashes.js';
import type { ValidatedRoot } from '../tuf/root.js';
import { parseSigned, snapshotSignedSchema, type FileMetaJson, type SnapshotSigned } from '../tuf/schema.js';
import { verifyThreshold } from '../tuf/threshold.js';
import { readRoleFile, type VerifyContext } from './context.js';
import { checkNotRolledBack } from './rollback.js';
import { baseRoleKeys } from './trusted-root.js';

/** A verified timestamp or snapshot. */
export interface VerifiedMetaRole {
  signed: SnapshotSigned;
  expiresMs: number;
  signedBy: string[];
}

/** Timestamp and snapshot share one shape; the structure rules differ only in the entries required. */
function checkMetaStructure(signed: SnapshotSigned, role: 'timestamp' | 'snapshot'): void {
  checkType(signed._type, role);
  checkVersion(signed.version, role);
  for (const name of role === 'timestamp' ? ['snapshot'] : ['root', 'targets']) {
    const problem = metaEntryProblem(signed.meta, name);
    if (problem !== undefined) {
      throw new TrustError('ERR_METADATA_INVALID', `${role}: ${problem}`, { role, check: `${role} meta` });
    }
  }
}

/** Signatures first, then shape, structure, version floor and expiry — Notary's order (notary-rules.md §7.1). */
function verifyMetaRole(ctx: VerifyContext, root: ValidatedRoot, role: 'timestamp' | 'snapshot', doc: MetadataDocument): VerifiedMetaRole {
  const signedBy = verifyThreshold(doc.envelope, doc.message(), baseRoleKeys(root, role), ctx.cache);
  const signed = parseSigned(snapshotSignedSchema, doc.envelope.signed, 'snapshot', doc.file, role);
  checkMetaStructure(signed, role);
  checkNotRolledBack(ctx, role, signed.version);
  const expiresMs = parseExpires(signed.expires, role);
  checkExpiry(expiresMs, signed.expires, role, ctx.now);
  return { signed, expiresMs, signedBy };
}

/** Step 2: timestamp.json, capped by the fixed timestamp size limit. */
export function verifyTimestamp(ctx: VerifyContext, root: ValidatedRoot): VerifiedMetaRole {
  const bytes = readRoleFile(ctx, 'timestamp', ctx.limits.maxTimestampBytes, 'size limit');
  return verifyMetaRole(ctx, root, 'timestamp', readDocument(bytes, 'timestamp', ctx.parseLimits));
}

/** Step 3: snapshot.json, capped and hashed by the timestamp's entry for it. */
export function verifySnapshot(ctx: VerifyContext, root: ValidatedRoot, timestamp: VerifiedMetaRole): VerifiedMetaRole {
  const meta = timestamp.signed.meta['snapshot'] as FileMetaJson;
  const bytes = readRoleFile(ctx, 'snapshot', meta.length, { referrer: 'timestamp' });
  checkFileAgainstMeta(bytes, meta, 'snapshot', 'timestamp');
  return verifyMetaRole(ctx, root, 'snapshot', readDocument(bytes, 'snapshot', ctx.parseLimits));
}

/** Offline, a cached root that the cached snapshot does not describe is fatal (notary-rules.md §7.5). */
export function checkRootInSnapshot(root: ValidatedRoot, snapshot: VerifiedMetaRole): void {
  checkFileAgainstMeta(root.doc.bytes, snapshot.signed.meta['root'] as FileMetaJson, 'root', 'snapshot');
}
