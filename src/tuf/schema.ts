/**
 * zod schemas for Notary's metadata shapes (notary-rules.md §2) — types only. Notary's
 * structural rules (`isValidRootStructure`, `isValidTargetsStructure`, …) are applied after
 * them, in `checkRootStructure` (tuf/root.ts), `checkMetaStructure` (verify/timestamp-snapshot.ts)
 * and `checkTargetsStructure` (verify/targets-structure.ts), so that each broken rule gets its
 * own message and code. A mismatch is reported in plain words, naming the field.
 */
import { z } from 'zod';
import { TrustError } from '../errors.js';
import type { JsonObject, JsonValue } from '../json/strict-parse.js';
import { isCanonicalBase64 } from './base64.js';

const base64 = z.string().refine(isCanonicalBase64, 'expected canonical standard base64');
/** Go decodes these into int / int64: plain integer literals only (the parser already refuses others). */
const int = z.int();

const keySchema = z.object({
  keytype: z.string(),
  keyval: z.object({
    // Key IDs are computed with `"private":null`; a key object carrying private material
    // is not something Notary writes into metadata.
    private: z.null(),
    public: base64,
  }),
});
export type TufKeyJson = z.infer<typeof keySchema>;

export interface FileMetaJson {
  length: number;
  hashes: Record<string, string>;
  custom?: unknown;
}

const FILE_META_FIELDS = new Set(['length', 'hashes', 'custom']);

/**
 * How Go's encoding/json matches a member name to an ASCII field name: case-insensitively, where
 * the Kelvin sign (U+212A) folds to `k` and the long s (U+017F) to `s` (encoding/json fold.go).
 * JS lower-casing already maps the Kelvin sign; the long s must be mapped by hand.
 */
function foldFieldName(name: string): string {
  return name.toLowerCase().replace(/\u017f/g, 's');
}

/**
 * FileMeta is checked by hand: a targets file holds one per target (100k in large repos), and
 * this check, the case-variant rule included, is an order of magnitude faster than a generic
 * object schema. Returns the problem, or undefined.
 */
export function fileMetaProblem(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'expected an object with length and hashes';
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (!FILE_META_FIELDS.has(k) && FILE_META_FIELDS.has(foldFieldName(k))) {
      return `member ${JSON.stringify(k)} is a case variant of ${JSON.stringify(foldFieldName(k))}, which Go's decoder would merge into it`;
    }
  }
  const length = o['length'];
  // Number.isSafeInteger is false for anything that is not a number.
  if (!Number.isSafeInteger(length) || (length as number) < 0) return 'length: expected a non-negative integer';
  const hashes = o['hashes'];
  if (hashes === null || typeof hashes !== 'object' || Array.isArray(hashes)) return 'hashes: expected an object';
  for (const k in hashes) {
    const h = (hashes as Record<string, unknown>)[k];
    if (typeof h !== 'string' || !isCanonicalBase64(h)) return `hashes.${k}: expected canonical standard base64`;
  }
  return undefined;
}

/** A map of name → FileMeta (`targets`, `meta`), checked in one pass. */
export const fileMetaMapSchema: z.ZodType<Record<string, FileMetaJson>> = z.unknown().superRefine((v, ctx) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    ctx.addIssue({ code: 'custom', message: 'expected an object of file metadata' });
    return;
  }
  for (const name of Object.keys(v)) {
    const problem = fileMetaProblem((v as Record<string, unknown>)[name]);
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(name)}: ${problem}` });
      return;
    }
  }
}) as unknown as z.ZodType<Record<string, FileMetaJson>>;

const common = {
  expires: z.string(),
  version: int,
};

export const rootSignedSchema = z.object({
  _type: z.string(),
  ...common,
  consistent_snapshot: z.boolean().optional(),
  keys: z.record(z.string(), keySchema),
  roles: z.record(z.string(), z.object({ keyids: z.array(z.string()), threshold: int }).nullable()),
});
export type RootSigned = z.infer<typeof rootSignedSchema>;

const delegationRoleSchema = z.object({
  name: z.string(),
  keyids: z.array(z.string()),
  threshold: int,
  // Notary removed `path_hash_prefixes` in 2016 and ignores it (notary-rules.md §2.4): accepted, unused.
  paths: z.array(z.string()).nullable().optional(),
});
export type DelegationRoleJson = z.infer<typeof delegationRoleSchema>;

export const targetsSignedSchema = z.object({
  _type: z.string(),
  ...common,
  targets: fileMetaMapSchema,
  // Go writes a nil slice or map as null: notary 0.7.0 writes "roles":null after the last
  // delegation is removed, and reads it as "no delegations" (found by the live interop test).
  delegations: z
    .object({
      keys: z.record(z.string(), keySchema).nullable(),
      roles: z.array(delegationRoleSchema).nullable(),
    })
    .optional(),
});
export type TargetsSigned = z.infer<typeof targetsSignedSchema>;

export const snapshotSignedSchema = z.object({
  _type: z.string(),
  ...common,
  meta: fileMetaMapSchema,
});
export type SnapshotSigned = z.infer<typeof snapshotSignedSchema>;


const signatureSchema = z.object({
  keyid: z.string(),
  method: z.string(),
  sig: base64,
});

const envelopeSchema = z.object({
  signed: z.record(z.string(), z.unknown()),
  signatures: z.array(signatureSchema).nullable(),
});

export interface Envelope {
  /** The parsed `signed` value, exactly as it will be canonicalized. */
  signed: JsonObject;
  signatures: { keyid: string; method: string; sig: string }[];
}

/** Field names per object kind, for the case-variant check below. */
const KNOWN_FIELDS: Readonly<Record<string, readonly string[]>> = {
  envelope: ['signed', 'signatures'],
  signature: ['keyid', 'method', 'sig'],
  root: ['_type', 'expires', 'version', 'consistent_snapshot', 'keys', 'roles'],
  targets: ['_type', 'expires', 'version', 'targets', 'delegations'],
  snapshot: ['_type', 'expires', 'version', 'meta'],
  key: ['keytype', 'keyval'],
  keyval: ['private', 'public'],
  rootRole: ['keyids', 'threshold'],
  delegations: ['keys', 'roles'],
  delegationRole: ['name', 'keyids', 'threshold', 'paths', 'path_hash_prefixes'],
};

/**
 * Go matches struct fields case-insensitively, so `"Targets"` beside `"targets"` is merged into
 * the same field by the typed decoder while the signature covers both (notary-rules.md §14.1). Refuse any
 * member whose name is a case variant of a known field.
 */
function rejectCaseVariants(obj: unknown, kind: string, where: string, role: string): void {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return;
  const known = KNOWN_FIELDS[kind] ?? [];
  for (const k of Object.keys(obj)) {
    if (known.includes(k)) continue;
    const folded = foldFieldName(k);
    const hit = known.find((f) => f.toLowerCase() === folded);
    if (hit !== undefined) {
      throw new TrustError(
        'ERR_METADATA_MALFORMED',
        `${where}: member ${JSON.stringify(k)} is a case variant of ${JSON.stringify(hit)}, which Go's decoder would merge into it`,
        { role, check: 'json members' },
      );
    }
  }
}

function each(obj: unknown, f: (v: unknown) => void): void {
  if (obj !== null && typeof obj === 'object') for (const v of Object.values(obj)) f(v);
}

function checkKeyMap(keys: unknown, where: string, role: string): void {
  each(keys, (k) => {
    rejectCaseVariants(k, 'key', where, role);
    if (k && typeof k === 'object') rejectCaseVariants((k as Record<string, unknown>)['keyval'], 'keyval', where, role);
  });
}

/**
 * Applies the case-variant rule to every struct-like object of a `signed` value (FileMeta
 * entries get it from {@link fileMetaSchema}).
 */
function rejectCaseVariantsIn(signed: JsonObject, kind: 'root' | 'targets' | 'snapshot', where: string, role: string): void {
  rejectCaseVariants(signed, kind, where, role);
  if (kind === 'root') {
    checkKeyMap(signed['keys'], where, role);
    each(signed['roles'], (r) => rejectCaseVariants(r, 'rootRole', where, role));
  } else if (kind === 'targets') {
    const d = signed['delegations'];
    rejectCaseVariants(d, 'delegations', where, role);
    if (d && typeof d === 'object' && !Array.isArray(d)) {
      checkKeyMap(d['keys'], where, role);
      const roles = d['roles'];
      if (Array.isArray(roles)) for (const r of roles) rejectCaseVariants(r, 'delegationRole', where, role);
    }
  }
}

// Every number these schemas take is an integer (`int` above): zod says `number` when the input
// is not a number at all.
const TYPE_WORDS: Readonly<Record<string, string>> = {
  int: 'an integer',
  number: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  null: 'null',
  array: 'an array',
  object: 'an object',
  record: 'an object',
};

function valueWords(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return Number.isInteger(v) ? `the number ${v}` : `the non-integer ${v}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === 'object' ? 'an object' : String(v);
}

/** `signed.version must be an integer, not the string "1"`; `signed.keys is missing`. */
function describeIssue(issue: z.core.$ZodIssue, prefix: string): string {
  const field = issue.path.length > 0 ? prefix + issue.path.map(String).join('.') : prefix === '' ? 'the document' : prefix.slice(0, -1);
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return `${field} is missing`;
    return `${field} must be ${TYPE_WORDS[issue.expected] ?? issue.expected}, not ${valueWords(issue.input)}`;
  }
  return `${field}: ${issue.message}`;
}

/**
 * Validates `value` against `schema`; a mismatch is `ERR_METADATA_MALFORMED` naming the first
 * offending field (as `prefix` + its path). Returns the input itself, not zod's copy (no schema here transforms values):
 * the parsers define a member named `__proto__` as data, which a copy might not preserve, and
 * every lookup keyed by file data goes through an own-property check.
 */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: string, role: string, prefix = ''): T {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return value as T;
  const first = r.error.issues[0];
  throw new TrustError(
    'ERR_METADATA_MALFORMED',
    `${where}: ${first ? describeIssue(first, prefix) : 'does not have the expected shape'}`,
    { role, check: 'metadata types' },
  );
}

const ROLE_OF_TYPE: Readonly<Record<string, string>> = { Root: 'root', Targets: 'targets', Snapshot: 'snapshot', Timestamp: 'timestamp' };

/**
 * A file that holds another role's document (a snapshot saved as root.json) is named as such,
 * before its missing fields could be reported one by one. Other `_type` values are left to
 * `checkType` after the shape is known (notary-rules.md §2.2).
 * @throws {TrustError} `ERR_METADATA_INVALID`
 */
function checkDocumentKind(signed: JsonObject, kind: 'root' | 'targets' | 'snapshot', where: string, role: string): void {
  const actual = signed['_type'];
  if (typeof actual !== 'string' || !Object.hasOwn(ROLE_OF_TYPE, actual)) return;
  const expected = kind === 'snapshot' && role === 'timestamp' ? 'timestamp' : kind;
  if (ROLE_OF_TYPE[actual] === expected) return;
  throw new TrustError('ERR_METADATA_INVALID', `${where} is a ${ROLE_OF_TYPE[actual] as string} document (_type ${JSON.stringify(actual)}), not a ${expected}`, {
    role,
    check: '_type',
    expected: expected.charAt(0).toUpperCase() + expected.slice(1),
    actual,
  });
}

/**
 * Reads a `signed` value as Go's typed decoder would: refuses case-variant members
 * (notary-rules.md §14.1), then a document of another role, then checks the shape.
 * @throws {TrustError} `ERR_METADATA_MALFORMED`
 */
export function parseSigned<T>(
  schema: z.ZodType<T>,
  signed: JsonObject,
  kind: 'root' | 'targets' | 'snapshot',
  where: string,
  role: string,
): T {
  rejectCaseVariantsIn(signed, kind, where, role);
  checkDocumentKind(signed, kind, where, role);
  return parseWith(schema, signed, where, role, 'signed.');
}

/** Reads the `{signed, signatures}` envelope of a parsed file. */
export function parseEnvelope(doc: JsonValue, where: string, role: string): Envelope {
  rejectCaseVariants(doc, 'envelope', where, role);
  const env = parseWith(envelopeSchema, doc, where, role);
  for (const s of env.signatures ?? []) rejectCaseVariants(s, 'signature', where, role);
  return {
    signed: env.signed as unknown as JsonObject,
    // Notary lower-cases `method` when it parses a signature (Signature.UnmarshalJSON).
    signatures: (env.signatures ?? []).map((s) => ({ ...s, method: s.method.toLowerCase() })),
  };
}
