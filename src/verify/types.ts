/** Public types of the verifier. */
import type { TrustError } from '../errors.js';
import type { ResolvedPins, RootPins } from '../tuf/trust-pinning.js';
import type { DelegationRoleJson, TufKeyJson } from '../tuf/schema.js';
import type { TargetMap } from '../tuf/target-map.js';

export type { ResolvedPins, RootPins } from '../tuf/trust-pinning.js';
export type { FileMetaJson, TufKeyJson } from '../tuf/schema.js';
export type { TargetMap } from '../tuf/target-map.js';

/**
 * What happens when a delegation fails:
 * - `strict` — what the notary client does offline: any failing reachable role fails everything.
 * - `online-equivalent` — what an online client concludes from the same data: a delegation that
 *   fails only on expiry or threshold is dropped with its subtree (notary-rules.md §7.8.4, §7.9).
 */
export type FailurePolicy = 'strict' | 'online-equivalent';

/**
 * Supplies the bytes of one cached metadata file. `role` is `root`, `timestamp`, `snapshot`,
 * `targets` or a delegation name; the file is `<role>.json` under the GUN's metadata directory.
 * Return `undefined` when the file does not exist. `maxBytes` is the cap the chain allows for it:
 * a source that can tell the size before reading should refuse larger files
 * (`ERR_METADATA_TOO_LARGE`); the verifier checks again either way.
 */
export type MetadataSource = (role: string, maxBytes: number) => Uint8Array | undefined;

/** Size and shape limits, checked before any JSON is parsed. */
export interface VerifyLimits {
  /** Largest root.json accepted, in bytes (Notary: 100 MiB). */
  maxRootBytes: number;
  /** Largest timestamp.json accepted, in bytes (Notary: 1 MiB). */
  maxTimestampBytes: number;
  /** Deepest JSON nesting accepted. */
  maxJsonDepth: number;
  /** Most delegated roles loaded for one repository. */
  maxDelegations: number;
  /** Most signatures one file may carry (Notary writes one per signing key). */
  maxSignatures: number;
}

export const DEFAULT_LIMITS: Readonly<VerifyLimits> = Object.freeze({
  maxRootBytes: 100 * 1024 * 1024,
  maxTimestampBytes: 1024 * 1024,
  maxJsonDepth: 64,
  maxDelegations: 10_000,
  maxSignatures: 1_000,
});

/**
 * What a caller remembers between verifications of one GUN, so that a later cache cannot be
 * older than one it already trusted (rollback, freeze) or carry another root (substitution).
 * Notary cannot do this offline; trustgate returns an updated record after every success.
 */
export interface TrustedState {
  gun: string;
  /** The exact text of the last trusted root.json. */
  root: string;
  /** Highest version seen per role (`root`, `timestamp`, `snapshot`, `targets`, delegations). */
  versions: Readonly<Record<string, number>>;
}

export interface VerifyOptions {
  /** The Globally Unique Name, e.g. `docker.io/library/alpine`. Root certificates must name it. */
  gun: string;
  /** The cached metadata files. */
  source: MetadataSource;
  /** The verification time: every expiry and certificate validity is judged against it. */
  now: Date;
  /** Defaults to `strict`. */
  mode?: FailurePolicy;
  /**
   * Root anchors from outside the cache: a table of pinned key IDs or CAs per GUN
   * ({@link RootPins}, Notary's `trust_pinning`), or the pins already selected for this GUN
   * ({@link ResolvedPins}, e.g. from `resolvePins` or `--pin-root`). Both mean the same.
   */
  pins?: RootPins | ResolvedPins;
  /** The caller's record from a previous verification of this GUN. */
  trustedState?: TrustedState;
  /**
   * Root versions between `trustedState.root` and the cached root (the server's `<N>.root.json`),
   * for a rotation of more than one step.
   */
  intermediateRoots?: readonly Uint8Array[];
  limits?: Partial<VerifyLimits>;
}

/** One verified targets role (top-level `targets` or a delegation). */
export interface VerifiedRole {
  name: string;
  version: number;
  expires: string;
  /** `expires` as the verifier read it (strict RFC 3339, notary-rules.md §7.11). */
  expiresAt: Date;
  /** Key IDs (as listed by the parent or root) whose signatures counted. */
  signedBy: readonly string[];
  /** Keys the parent lists for this role, by ID. */
  keys: Readonly<Record<string, TufKeyJson>>;
  threshold: number;
  /** Effective path prefixes after restriction by the parents (notary-rules.md §7.8.2). */
  paths: readonly string[];
  /** Signed targets by name: a read-only `Map` (large canonical files stay text until read). */
  targets: TargetMap;
  /** Delegations this role declares (children), in file order. */
  delegations: readonly DelegationRoleJson[];
  /** Keys this role declares for its children. */
  delegationKeys: Readonly<Record<string, TufKeyJson>>;
}

export interface RoleSummary {
  name: string;
  version: number;
  expires: string;
  /** `expires` as the verifier read it (strict RFC 3339, notary-rules.md §7.11). */
  expiresAt: Date;
  signedBy: readonly string[];
}

/** A delegation that `online-equivalent` mode dropped, with why. */
export interface SkippedRole {
  role: string;
  error: TrustError;
}

/** The outcome of {@link verifyRepository}: everything below was proven. */
export interface VerifiedRepository {
  gun: string;
  verifiedAt: Date;
  mode: FailurePolicy;
  root: RoleSummary & {
    /** Root keys as listed in root.json, by ID. */
    keys: Readonly<Record<string, TufKeyJson>>;
    /** `roles` of root.json: key IDs and threshold per base role. */
    roles: Readonly<Record<string, { keyids: readonly string[]; threshold: number }>>;
  };
  timestamp: RoleSummary;
  snapshot: RoleSummary;
  /** Loaded targets roles in load order (pre-order), `targets` first. */
  roles: ReadonlyMap<string, VerifiedRole>;
  skipped: readonly SkippedRole[];
  /** Save this and pass it back next time as `trustedState`. */
  trustedState: TrustedState;
}

/** A signed target as a lookup answers it. */
export interface SignedTarget {
  name: string;
  /** `sha256:<hex>`, the manifest digest docker pulls by. */
  digest: string;
  length: number;
  /** The role whose entry was used. */
  role: string;
  /** Key IDs whose signatures on that role counted. */
  signers: readonly string[];
  hashes: Readonly<Record<string, string>>;
  custom?: unknown;
}
