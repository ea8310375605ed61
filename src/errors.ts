/**
 * The one error class of trustgate and its stable `code` union.
 *
 * Every failure — a bad signature, an expired role, a malformed file, an illegal quarantine
 * transition, a misused API — is a {@link TrustError}. Switch on `code`; the message is for
 * people and may be reworded, the code never is.
 *
 * Shipped from `trustgate` and `trustgate/errors`.
 *
 * @example
 * ```ts
 * import { isTrustError } from 'trustgate/errors';
 * try { verifyRepository(input) } catch (e) {
 *   if (isTrustError(e) && e.code === 'ERR_METADATA_EXPIRED') console.error(e.role, e.message);
 * }
 * ```
 *
 * @module
 */

/** Codes raised while reading and verifying Notary / TUF metadata. */
export const VERIFY_ERROR_CODES = [
  /** A metadata file the chain needs is not in the cache. */
  'ERR_METADATA_NOT_FOUND',
  /** Bytes are not acceptable JSON: syntax, duplicate members, invalid UTF-8, BOM, depth, non-integers. */
  'ERR_METADATA_MALFORMED',
  /** A file is larger than its cap (a fixed limit, or `length` from the referring role). */
  'ERR_METADATA_TOO_LARGE',
  /** JSON is well formed but the structure breaks Notary's rules (`_type`, version, roles, thresholds). */
  'ERR_METADATA_INVALID',
  /** The `signatures` array is empty or absent. */
  'ERR_NO_SIGNATURES',
  /** Fewer distinct valid keys signed than the role's threshold. */
  'ERR_THRESHOLD_NOT_MET',
  /** A signature's key ID selects a key whose content hashes to another ID. */
  'ERR_INVALID_KEY_ID',
  /** `expires` is before the verification time. */
  'ERR_METADATA_EXPIRED',
  /** A file's bytes do not match a hash listed for it. */
  'ERR_HASH_MISMATCH',
  /** The referring role lists no sha256/sha512 hash for a file. */
  'ERR_MISSING_HASHES',
  /** No root certificate survived Notary's leaf checks (CN, validity, SHA-1, RSA size, CA). */
  'ERR_ROOT_CERT_INVALID',
  /** A new root is not signed to the previous root's threshold. */
  'ERR_ROOT_ROTATION_FAILED',
  /** The root does not match a caller-supplied pin (key IDs, certificate or CA). */
  'ERR_ROOT_PIN_MISMATCH',
  /** A role's version is lower than a version the caller already trusted. */
  'ERR_VERSION_ROLLBACK',
  /** Caller-held trusted state says the cache is older than what was seen before (freeze / substitution). */
  'ERR_TRUSTED_STATE_MISMATCH',
  /** A delegation's name or placement breaks Notary's role rules. */
  'ERR_ROLE_INVALID',
  /** A delegation key certificate fails Notary's weak checks (SHA-1, RSA < 2048, NotBefore > NotAfter). */
  'ERR_DELEGATION_CERT_INVALID',
  /** The requested tag is not signed by any role in the lookup order. */
  'ERR_TARGET_NOT_FOUND',
  /** A target was found but carries no sha256 hash, so no digest can be named. */
  'ERR_TARGET_NO_SHA256',
  /** A path in the trust directory resolves outside the GUN's metadata directory. */
  'ERR_UNSAFE_PATH',
  /** The trust directory or a file in it cannot be read. */
  'ERR_TRUST_DIR_UNREADABLE',
] as const;

/** Codes raised by the quarantine state machine and its stores. */
export const QUARANTINE_ERROR_CODES = [
  /** The command is not allowed in the current state (see the transition table). */
  'ERR_ILLEGAL_TRANSITION',
  /** The principal's role does not allow the command. */
  'ERR_UNAUTHORIZED',
  /** A verdict names a scanner that is not registered. */
  'ERR_UNKNOWN_SCANNER',
  /** A verdict or command body is not valid. */
  'ERR_INVALID_COMMAND',
  /** A compare-and-set on the per-digest version lost a race. */
  'ERR_CONFLICT',
  /** The (repository, digest) pair is not known. */
  'ERR_NOT_FOUND',
  /** A row read from a quarantine store does not validate; `path` names the row. */
  'ERR_STORE_CORRUPT',
  /** The store's database cannot be reached or failed mid-operation; nothing was committed unless it says so. */
  'ERR_STORE_UNAVAILABLE',
  /** The store's database schema is newer than this code (or not ours); the store refuses to start. */
  'ERR_STORE_SCHEMA',
] as const;

/** Codes for misuse: bad options, bad references, bad policies. */
export const USAGE_ERROR_CODES = [
  /** An argument or option is not valid. */
  'ERR_INVALID_ARGUMENT',
  /** An image reference cannot be parsed the way docker parses it. */
  'ERR_INVALID_REFERENCE',
] as const;

/** Codes of the admission gate: a bad policy (thrown) and the reasons a decision denies an image. */
export const ADMISSION_ERROR_CODES = [
  /** The admission policy does not validate (schema, glob, threshold, contradictory settings). */
  'ERR_POLICY_INVALID',
  /** The image has no trust data, or its tag (or digest) is signed by no role docker accepts. */
  'ERR_ADMISSION_UNSIGNED',
  /** Fewer of the required signer roles signed the same digest than the rule's threshold. */
  'ERR_SIGNER_THRESHOLD_NOT_MET',
  /** The digest is not visible to the principal in the quarantine state (not yet passed, failed, …). */
  'ERR_QUARANTINED',
  /** The timestamp was signed longer ago than the rule's maximum metadata age allows. */
  'ERR_METADATA_TOO_OLD',
  /** No rule matched and the policy's default denies. */
  'ERR_NO_MATCHING_RULE',
  /** A rule denies the image outright. */
  'ERR_IMAGE_DENIED',
] as const;

/**
 * Codes that report trustgate's own failure, never a verdict about the data. There is no
 * `ERR_KEY_INVALID`: a key whose bytes do not decode as its declared type (an `ecdsa` key that is
 * no P-256 SPKI, an ed25519 key that is not 32 bytes) is no error of its own in Notary — its
 * signatures are ignored, and the role fails with `ERR_THRESHOLD_NOT_MET` only if the threshold is
 * then not met (notary-rules.md §4.4) — so trustgate reports exactly that.
 */
export const INTERNAL_ERROR_CODES = [
  /**
   * A bug in trustgate; report it. The CLI reports any exception that is not a TrustError with
   * this code, so that a crash can never read as a pass (it exits 1).
   */
  'ERR_INTERNAL',
] as const;

/** Codes of the fetch adapter (`trustgate/fetch`): talking to a notary-server and committing the cache. */
export const FETCH_ERROR_CODES = [
  /** The server could not be reached (DNS, refused, reset, TLS) after the allowed retries. */
  'ERR_FETCH_UNREACHABLE',
  /** The server or its token service refused the credentials (401/403, bad token response). */
  'ERR_FETCH_AUTH',
  /** The server has no such file (404): no trust data for the GUN, or a file the chain names is missing. */
  'ERR_FETCH_NOT_FOUND',
  /** A download is longer than its referrer (or the fixed root/timestamp cap) allows; it was cut off. */
  'ERR_FETCH_TOO_LARGE',
  /** A request took longer than its timeout, or the whole fetch passed its deadline. */
  'ERR_FETCH_TIMEOUT',
  /** The server answered with an error status (5xx after retries, unexpected 4xx) or a redirect to another origin. */
  'ERR_FETCH_SERVER',
  /** The caller's `AbortSignal` fired. */
  'ERR_FETCH_ABORTED',
  /** The verified data could not be written to the cache or the trusted-state record. */
  'ERR_FETCH_CACHE_WRITE',
] as const;

/** Codes of the registry gateway (`trustgate/gateway`): its configuration and its upstream registry. */
export const GATEWAY_ERROR_CODES = [
  /** The gateway configuration file is missing, not JSON, or does not validate; the message names the field. */
  'ERR_GATEWAY_CONFIG',
  /** The upstream registry could not be reached or answered in a way the gateway cannot relay. */
  'ERR_GATEWAY_UPSTREAM',
] as const;

/** Every code a {@link TrustError} can carry. */
export const ERROR_CODES = [
  ...VERIFY_ERROR_CODES,
  ...QUARANTINE_ERROR_CODES,
  ...USAGE_ERROR_CODES,
  ...ADMISSION_ERROR_CODES,
  ...INTERNAL_ERROR_CODES,
  ...FETCH_ERROR_CODES,
  ...GATEWAY_ERROR_CODES,
] as const;

/** The union of every stable error code. */
export type TrustErrorCode = (typeof ERROR_CODES)[number];

/** Structured facts about a failure; every field is optional and present only when it applies. */
export interface TrustErrorDetails {
  /** The TUF role the failure is about (`root`, `targets`, `targets/releases`, …). */
  role?: string;
  /** The check that failed, in a few words (`signature threshold`, `sha256 hash`, `expiry`, …). */
  check?: string;
  /** What the check wanted. */
  expected?: string | number;
  /** What the check found. */
  actual?: string | number;
  /** Key IDs involved (signers found, keys listed, pins). */
  keyIds?: readonly string[];
  /** A file path (relative to the metadata directory when it comes from the trust-dir adapter). */
  path?: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * The single error class of trustgate.
 *
 * @example
 * ```ts
 * import { TrustError } from 'trustgate/errors';
 * const e = new TrustError('ERR_METADATA_EXPIRED', 'timestamp expired at 2026-01-01T00:00:00Z', { role: 'timestamp' });
 * e.code; // 'ERR_METADATA_EXPIRED'
 * ```
 */
export class TrustError extends Error {
  /** The stable code; see {@link ERROR_CODES}. */
  readonly code: TrustErrorCode;
  readonly role: string | undefined;
  readonly check: string | undefined;
  readonly expected: string | number | undefined;
  readonly actual: string | number | undefined;
  readonly keyIds: readonly string[] | undefined;
  readonly path: string | undefined;

  constructor(code: TrustErrorCode, message: string, details: TrustErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TrustError';
    this.code = code;
    this.role = details.role;
    this.check = details.check;
    this.expected = details.expected;
    this.actual = details.actual;
    this.keyIds = details.keyIds;
    this.path = details.path;
  }

  /** A plain object for logs and `--json` output (no stack). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { code: this.code, message: this.message };
    for (const k of ['role', 'check', 'expected', 'actual', 'keyIds', 'path'] as const) {
      if (this[k] !== undefined) out[k] = this[k];
    }
    return out;
  }
}

/**
 * True when `e` is a trustgate error. Works across duplicate copies of the package, where
 * `instanceof` does not.
 *
 * @example
 * ```ts
 * if (isTrustError(err)) process.exitCode = err.code === 'ERR_INVALID_ARGUMENT' ? 2 : 1;
 * ```
 */
export function isTrustError(e: unknown): e is TrustError {
  if (e instanceof TrustError) return true;
  if (!(e instanceof Error) || e.name !== 'TrustError') return false;
  const code: unknown = (e as { code?: unknown }).code;
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
}
