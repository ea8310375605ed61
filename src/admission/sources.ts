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
import { parsePolicy, type AdmissionPolicy } from './policy.js';

export { trustDirTrustSource, cachedTrustSource } from './trust-source.js';
export type { TrustQuery, TrustReuse, TrustSource, TrustDirSourceOptions } from './trust-source.js';

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
  /** The decision time: visibility is judged at the request's instant, not the reader's clock. */
  now: Date;
}

/** A quarantine reader's answer. */
export type QuarantineAccessResult =
  | { visible: true; digest: string }
  | { visible: false; reason: string; state?: string };

/** Visibility of a digest for a principal, e.g. from a registry's quarantine state. */
export interface QuarantineReader {
  access(query: QuarantineQuery): QuarantineAccessResult | Promise<QuarantineAccessResult>;
}

/** The part of the quarantine service the adapter needs (`QuarantineService.view`). */
export interface QuarantineViewProvider {
  view(repository: string, options?: { now?: Date }): Promise<QuarantineView> | QuarantineView;
}

export interface QuarantineServiceReaderOptions {
  /** Maps a GUN to the quarantine repository name; default: the registry-local path. */
  repositoryFor?: (query: QuarantineQuery) => string;
}

/**
 * A {@link QuarantineReader} over `createQuarantineService(...)`: a digest is visible when
 * `view(repository, { now }).manifest(principal, { digest }, 'GET')` allows it. The view is taken
 * at the request's `now`, so a release that has lapsed by then no longer shows the digest
 * (quarantine.md §5, Q18: expiry is exact).
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
      const view = await service.view(repository, { now: query.now });
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
