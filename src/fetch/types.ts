/** Public types of the fetch adapter (`trustgate/fetch`). */
import type { TrustError } from '../errors.js';
import type { FailurePolicy, RootPins, VerifiedRepository, VerifyLimits } from '../verify/types.js';
import type { Credentials } from './auth.js';
import type { RegistryServer } from './config.js';

export type { Credentials } from './auth.js';
export type { RegistryServer } from './config.js';

/** Notary's `trust_pinning` plus pinning the root by public key; used only for the first fetch of a GUN. */
export interface FetchPins extends RootPins {
  /**
   * GUN (exact) or GUN prefix ending in `*` → PEM public keys (`-----BEGIN PUBLIC KEY-----`), one of
   * which must be the key of a root certificate whose signature counted. The longest match wins.
   */
  rootPublicKeys?: Readonly<Record<string, readonly string[]>>;
}

export interface FetchOptions {
  /** e.g. `docker.io/library/alpine`. */
  gun: string;
  /** Verification time for every expiry and certificate check. */
  now: Date;
  /** Base URL of the notary-server. Default: docker's choice for the GUN's registry (see `defaultServer`). */
  server?: string;
  /**
   * Per-registry servers (the config file, see `readFetchConfig`), keyed by registry host
   * (`host[:port]`, lower case, `docker.io` for Docker Hub); used when `server` is not given.
   * An entry's `tlsCa` is trusted for its own server only, on top of `tlsCa`.
   */
  registries?: Readonly<Record<string, RegistryServer>>;
  /** The docker/notary trust directory to update. Default: `$DOCKER_CONFIG/trust`, else `~/.docker/trust`. */
  trustDir?: string;
  /** Where the trusted-state record lives; must not be inside `trustDir`. Default: `$XDG_STATE_HOME/trustgate`. */
  stateDir?: string;
  /** Credentials for the registry's token service, tried after an anonymous token. */
  auth?: Credentials;
  /** Docker config directory to take credentials from (`false`: none). Default: `$DOCKER_CONFIG`, else `~/.docker`. */
  dockerConfigDir?: string | false;
  /** Root anchors for the first fetch of a GUN (later fetches are anchored by the trusted root). */
  pins?: FetchPins;
  /** Extra CA certificates (PEM) for https to the server and the token service. */
  tlsCa?: string;
  /**
   * Where `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` are read from, as docker reads them (loopback
   * is never proxied). Default: `process.env`; `{}` for direct connections only.
   */
  proxyEnv?: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
  /** Called after each file is staged (downloaded or reused from the cache), for a progress display. */
  onProgress?: (progress: FetchProgress) => void;
  /** Per request, headers and body; default 30 000 ms. */
  timeoutMs?: number;
  /** The whole fetch; default 120 000 ms. */
  deadlineMs?: number;
  /** Retries on network errors and 5xx answers; default 2. */
  retries?: number;
  /** First retry delay, doubled per retry; default 200 ms. */
  backoffMs?: number;
  /** Default `strict`, so that the committed cache also verifies offline. */
  mode?: FailurePolicy;
  /**
   * When the server cannot be reached (or times out, or answers 5xx), accept the existing cache
   * instead — only if it still verifies at `now` against the trusted-state record and the last
   * verified fetch is at most `maxAgeMs` old. The result says so in `stale`.
   */
  allowStale?: { maxAgeMs: number };
  limits?: Partial<VerifyLimits>;
  /** Most root versions walked in one rotation; default 64. */
  maxRootRotations?: number;
}

/** What happened to one role. */
export interface RoleChange {
  role: string;
  /** Version trusted before (trusted-state record or verified cache); undefined when new. */
  before: number | undefined;
  after: number;
  /** Whether the bytes came from the existing cache (hash matched) or from the server. */
  from: 'cache' | 'network';
  /** Whether the cache file was (re)written. */
  written: boolean;
}

export interface FetchResult {
  gun: string;
  server: string;
  /** The verified repository, exactly as `verifyRepository` returns it for the committed bytes. */
  repository: VerifiedRepository;
  /** Per role, in verification order: root, timestamp, snapshot, targets, delegations. */
  roles: RoleChange[];
  rootRotated: boolean;
  /** Something in the cache changed. */
  changed: boolean;
  bytesDownloaded: number;
  requests: number;
  /** `<trustDir>/tuf/<gun>/metadata`. */
  metadataDir: string;
  stateFile: string;
  /** Present only when `allowStale` let the existing cache stand in for an unreachable server. */
  stale?: { error: TrustError; fetchedAt: string; ageMs: number };
}

/** How far one fetch has come; `role` is the file just staged. */
export interface FetchProgress {
  gun: string;
  role: string;
  /** Files staged so far (downloaded or reused). */
  files: number;
  /** Bytes received from the network so far. */
  bytes: number;
}
