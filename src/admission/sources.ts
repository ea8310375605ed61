/**
 * Where admission gets its facts: verified trust data per GUN and quarantine visibility per
 * digest. Both are interfaces so that a registry server can plug its own; adapters are given for
 * a docker trust directory and for the `trustgate/quarantine` service. The policy file reader
 * lives here too, so that this is the module of the admission gate that reads files.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { TrustError } from '../errors.js';
import type { Principal, QuarantineView } from '../quarantine/index.js';
import { verifyTrustDir } from '../trust-dir/reader.js';
import type { RootPins } from '../verify/types.js';
import type { FailurePolicy, VerifiedRepository } from '../verify/types.js';
import { parsePolicy, type AdmissionPolicy } from './policy.js';

/** What {@link TrustSource.verify} is asked for. */
export interface TrustQuery {
  /** The GUN, e.g. `docker.io/acme/app`. */
  gun: string;
  /** The verification time. */
  now: Date;
  /** Root pins the matched rule requires; absent means trust on first use. */
  pins?: RootPins;
}

/**
 * Verified trust data for one GUN. Must throw a `TrustError` when the data is missing
 * (`ERR_METADATA_NOT_FOUND` for the root: the image is unsigned) or does not verify.
 */
export interface TrustSource {
  verify(query: TrustQuery): VerifiedRepository | Promise<VerifiedRepository>;
}

/** What {@link QuarantineReader.access} is asked for. */
export interface QuarantineQuery {
  gun: string;
  /** The registry-local repository path (`acme/app` for `docker.io/acme/app`). */
  path: string;
  /** The verified digest, or undefined when content trust was not required and the ref has none. */
  digest: string | undefined;
  /** The tag, used only when there is no digest. */
  tag: string | undefined;
  principal: Principal;
}

/** A quarantine reader's answer. */
export type QuarantineAccessResult =
  | { visible: true; digest: string }
  | { visible: false; reason: string; state?: string };

/** Visibility of a digest for a principal, e.g. from a registry's quarantine state. */
export interface QuarantineReader {
  access(query: QuarantineQuery): QuarantineAccessResult | Promise<QuarantineAccessResult>;
}

export interface TrustDirSourceOptions {
  /** The trust directory (`~/.docker/trust` layout). */
  trustDir: string;
  /** Failure policy for delegations (default `strict`). */
  mode?: FailurePolicy;
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
    verify: ({ gun, now, pins }) =>
      verifyTrustDir({
        gun,
        trustDir: opts.trustDir,
        now,
        ...(opts.mode ? { mode: opts.mode } : {}),
        ...(pins ? { pins } : {}),
      }),
  };
}

/** The part of the quarantine service the adapter needs (`QuarantineService.view`). */
export interface QuarantineViewProvider {
  view(repository: string): Promise<QuarantineView> | QuarantineView;
}

export interface QuarantineServiceReaderOptions {
  /** Maps a GUN to the quarantine repository name; default: the registry-local path. */
  repositoryFor?: (query: QuarantineQuery) => string;
}

/**
 * A {@link QuarantineReader} over `createQuarantineService(...)`: a digest is visible when
 * `view(repository).manifest(principal, { digest }, 'GET')` allows it.
 *
 * @example
 * ```ts
 * const q = createQuarantineService({ store: createMemoryStore(), config: { scanners: ['trivy'] } });
 * const quarantine = quarantineServiceReader(q);
 * ```
 */
export function quarantineServiceReader(service: QuarantineViewProvider, opts: QuarantineServiceReaderOptions = {}): QuarantineReader {
  return {
    async access(query) {
      const repository = opts.repositoryFor ? opts.repositoryFor(query) : query.path;
      const view = await service.view(repository);
      const ref = query.digest !== undefined ? { digest: query.digest } : { tag: query.tag ?? 'latest' };
      const r = view.manifest(query.principal, ref, 'GET');
      if (r.allowed) return { visible: true, digest: r.digest };
      const state = r.response.detail?.quarantineState;
      return { visible: false, reason: r.reason, ...(state === undefined ? {} : { state }) };
    },
  };
}

/**
 * Reads and validates a JSON policy file.
 *
 * @throws {TrustError} `ERR_POLICY_INVALID` (unreadable file, bad JSON, bad policy)
 */
export function loadPolicyFile(path: string): AdmissionPolicy {
  const policyError = (message: string, cause: unknown) => new TrustError('ERR_POLICY_INVALID', message, { check: 'admission policy', cause });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw policyError(`cannot read policy file ${path}: ${(e as Error).message}`, e);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw policyError(`policy file ${path} is not JSON: ${(e as Error).message}`, e);
  }
  return parsePolicy(json);
}
