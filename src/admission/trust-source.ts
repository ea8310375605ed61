/**
 * Verified trust data per GUN, as admission and the CLI read it: the {@link TrustSource}
 * interface, its adapter over a docker trust directory, and the one per-run memo. Kept apart
 * from the policy code so that `trustgate verify` loads no admission policy machinery.
 *
 * @module
 */
import { readTrustedState, stateFile, type TrustedStateRecord } from '../fetch/state.js';
import { verifyTrustDir } from '../trust-dir/reader.js';
import type { ResolvedPins, RootPins } from '../verify/types.js';
import type { FailurePolicy, VerifiedRepository } from '../verify/types.js';

/** What {@link TrustSource.verify} is asked for. */
export interface TrustQuery {
  /** The GUN, e.g. `docker.io/acme/app`. */
  gun: string;
  /** The verification time. */
  now: Date;
  /** Root pins the matched rule requires; absent means trust on first use. */
  pins?: RootPins | ResolvedPins;
}

/**
 * Verified trust data for one GUN. Must throw a `TrustError` when the data is missing
 * (`ERR_METADATA_NOT_FOUND` for the root: the image is unsigned) or does not verify.
 */
export interface TrustSource {
  verify(query: TrustQuery): VerifiedRepository | Promise<VerifiedRepository>;
}

/**
 * How long the answer a source last gave for a query may be reused without asking it again:
 * what a copy in front of it (the server thread's copy of a worker's answers, src/admission/pool.ts)
 * needs to answer exactly as the source would.
 */
export interface TrustReuse {
  /** Decision times (ms since the epoch) from `fromMs`, inclusive… */
  fromMs: number;
  /** …to `untilMs`, exclusive. */
  untilMs: number;
  /** And for at most this many milliseconds of monotonic time from now (`Infinity`: no limit). */
  forMs: number;
}

export interface TrustDirSourceOptions {
  /** The trust directory (`~/.docker/trust` layout). */
  trustDir: string;
  /** Failure policy for delegations (default `strict`). */
  mode?: FailurePolicy;
  /**
   * Where `trustgate fetch` keeps trusted-state records (src/fetch/state.ts). When a GUN has a
   * record, it is the version floor: an older copy in the trust directory is `ERR_VERSION_ROLLBACK`.
   * Absent: no record is read.
   */
  stateDir?: string;
}

/**
 * Where `gun`'s trusted-state record would be, or undefined for a GUN that `trustgate fetch`
 * cannot fetch (e.g. an IPv6 host): such a GUN never has a record.
 */
export function recordPath(stateDir: string, gun: string): string | undefined {
  try {
    return stateFile(stateDir, gun);
  } catch {
    return undefined;
  }
}

/** `gun`'s trusted-state record, if it has one (see {@link recordPath}). */
export function recordOf(stateDir: string, gun: string): TrustedStateRecord | undefined {
  return recordPath(stateDir, gun) === undefined ? undefined : readTrustedState({ gun, stateDir });
}

/**
 * A {@link TrustSource} over a docker / notary trust directory (`verifyTrustDir`).
 *
 * @example
 * ```ts
 * const trust = trustDirTrustSource({ trustDir: '/var/lib/trustgate/trust' });
 * ```
 */
export function trustDirTrustSource(opts: TrustDirSourceOptions): TrustSource {
  return {
    verify: ({ gun, now, pins }) => {
      const record = opts.stateDir === undefined ? undefined : recordOf(opts.stateDir, gun);
      return verifyTrustDir({
        gun,
        trustDir: opts.trustDir,
        now,
        ...(opts.mode ? { mode: opts.mode } : {}),
        ...(pins ? { pins } : {}),
        ...(record ? { trustedState: record.trustedState } : {}),
      });
    },
  };
}

/**
 * `source` with `verify` memoised per GUN and pins, for one run (a CLI invocation, one
 * AdmissionReview): `acme/hub` and `docker.io/acme/hub:v1` name the same trust data, so it is
 * verified once. The promise is kept, so a failure reaches every later query for that GUN
 * without asking again. The run's `now` is fixed, so it is not part of the key.
 */
export function cachedTrustSource(source: TrustSource): { verify(query: TrustQuery): Promise<VerifiedRepository> } {
  const verified = new Map<string, Promise<VerifiedRepository>>();
  return {
    verify(query) {
      const key = `${query.gun}\u0000${JSON.stringify(query.pins ?? null)}`;
      let p = verified.get(key);
      if (p === undefined) {
        p = new Promise<VerifiedRepository>((resolve) => resolve(source.verify(query)));
        verified.set(key, p);
      }
      return p;
    },
  };
}
