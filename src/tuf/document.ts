/**
 * One metadata file read once: strict parse, envelope, and the canonical message computed at
 * most once (notary-rules.md §4.1 — the message is the canonical JSON of the parsed `signed` value, never
 * the raw bytes, which Notary stores HTML-escaped).
 */
import { TrustError } from '../errors.js';
import { canonicalBytes } from '../json/canonical.js';
import { parseStrictJsonWithSpan, type IndexedMembers, type ParseLimits } from '../json/strict-parse.js';
import { parseEnvelope, type Envelope } from './schema.js';
import { isExpired, parseRfc3339 } from './time.js';

export interface MetadataDocument {
  role: string;
  /** File name relative to the metadata directory, for messages. */
  file: string;
  bytes: Uint8Array;
  envelope: Envelope;
  /**
   * Set when the file was canonical and `signed[limits.indexed]` an object: that member parsed
   * as `{}` in `envelope.signed`, and its entries are here, still text.
   */
  indexed?: IndexedMembers;
  /** Canonical bytes of `signed`. */
  message(): Uint8Array;
}

export interface DocumentLimits extends ParseLimits {
  /** Most signatures one file may carry (each may cost a signature verification). */
  maxSignatures?: number;
  /** A member of `signed` to leave as text when the file is canonical (targets files: `targets`). */
  indexed?: string;
  /** Opaque data where numbers like `1.0` are read as Go reads them (targets files: custom). */
  opaquePath?: readonly string[];
}

/** Where a targets file holds data docker and Notary never decode: each target's `custom`. */
export const TARGETS_OPAQUE_PATH: readonly string[] = Object.freeze(['signed', 'targets', '*', 'custom']);

export function readDocument(bytes: Uint8Array, role: string, limits?: DocumentLimits): MetadataDocument {
  const file = `${role}.json`;
  let doc;
  let span;
  let indexed: IndexedMembers | undefined;
  try {
    ({ value: doc, span, indexed } = parseStrictJsonWithSpan(bytes, file, 'signed', limits, {
      ...(limits?.indexed === undefined ? {} : { indexed: limits.indexed }),
      ...(limits?.opaquePath === undefined ? {} : { opaquePath: limits.opaquePath }),
    }));
  } catch (e) {
    if (e instanceof TrustError) {
      throw new TrustError(e.code, e.message, { role, check: 'json syntax', path: file, cause: e });
    }
    throw e;
  }
  const envelope = parseEnvelope(doc, file, role);
  const maxSignatures = limits?.maxSignatures;
  if (maxSignatures !== undefined && envelope.signatures.length > maxSignatures) {
    throw new TrustError('ERR_METADATA_TOO_LARGE', `${file} carries ${envelope.signatures.length} signatures, more than the ${maxSignatures} allowed`, {
      role,
      check: 'signature count',
      expected: maxSignatures,
      actual: envelope.signatures.length,
    });
  }
  let message: Uint8Array | undefined;
  return {
    role,
    file,
    bytes,
    envelope,
    ...(indexed ? { indexed } : {}),
    message() {
      // Notary writes `signed` canonically, so usually the file already holds the message; the
      // parser proved it (no whitespace, sorted members, no escapes but \" and \\). Otherwise,
      // e.g. for Notary's HTML-escaped `<>&`, re-encode the parsed value (notary-rules.md §2.1, §4.1).
      if (!message && span?.canonical) message = bytes.subarray(span.start, span.end);
      // The parsed `signed` lacks the indexed member, so it is never the message; the parser
      // indexes only canonical files, whose span is the message.
      if (!message && indexed) throw new Error('internal: an indexed document has no canonical span');
      if (!message) {
        try {
          message = canonicalBytes(envelope.signed);
        } catch (e) {
          throw new TrustError('ERR_METADATA_MALFORMED', `${file}: ${(e as Error).message}`, {
            role,
            check: 'canonical json',
            cause: e,
          });
        }
      }
      return message;
    },
  };
}

const TYPE_OF: Readonly<Record<string, string>> = {
  root: 'Root',
  targets: 'Targets',
  snapshot: 'Snapshot',
  timestamp: 'Timestamp',
};

/** `_type` must be exactly `Root`, `Targets`, `Snapshot` or `Timestamp` (delegations: `Targets`). */
export function checkType(actual: string, role: string): void {
  const expected = Object.hasOwn(TYPE_OF, role) ? (TYPE_OF[role] as string) : 'Targets';
  if (actual !== expected) {
    throw new TrustError('ERR_METADATA_INVALID', `${role}: _type is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`, {
      role,
      check: '_type',
      expected,
      actual,
    });
  }
}

/** `version` must be at least 1 (notary-rules.md §2.2). */
export function checkVersion(version: number, role: string): void {
  if (version < 1) {
    throw new TrustError('ERR_METADATA_INVALID', `${role}: version ${version} is less than 1`, {
      role,
      check: 'version',
      expected: 1,
      actual: version,
    });
  }
}

/** Parses `expires` strictly; malformed dates are invalid metadata. */
export function parseExpires(expires: string, role: string): number {
  const ms = parseRfc3339(expires);
  if (ms === undefined) {
    throw new TrustError('ERR_METADATA_INVALID', `${role}: expires ${JSON.stringify(expires)} is not an RFC 3339 time`, {
      role,
      check: 'expires format',
      actual: expires,
    });
  }
  return ms;
}

/** `expires < now` is expired; equal is still valid; no skew (notary-rules.md §7.11). */
export function checkExpiry(expiresMs: number, expires: string, role: string, now: Date): void {
  if (isExpired(expiresMs, now)) {
    throw new TrustError('ERR_METADATA_EXPIRED', `${role} expired at ${expires} (now is ${now.toISOString()})`, {
      role,
      check: 'expiry',
      expected: `not before ${now.toISOString()}`,
      actual: expires,
    });
  }
}
