/**
 * What every handler shares: the quarantine service and its store, the upstream, the
 * authenticator, and a cache of what each stored manifest references. Manifests are
 * content-addressed, so a cached entry never goes stale; the cache is only a cost saving and is
 * rebuilt from the upstream on a miss (a restarted gateway over a durable store loses nothing).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { QuarantineService } from '../quarantine/service.js';
import type { QuarantineStore } from '../quarantine/store.js';
import type { Authenticator, Caller } from './auth.js';
import type { GatewayConfig } from './config.js';
import { factsOf, MANIFEST_MEDIA_TYPES, MAX_MANIFEST_BYTES } from './manifest.js';
import type { ManifestFacts } from './manifest.js';
import { readBody } from './upstream.js';
import type { Upstream } from './upstream.js';

/** One request, authenticated. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly caller: Caller;
  /** The gateway's own origin as the client addressed it, for `Location` and `Link`. */
  readonly self: string;
  readonly query: URLSearchParams;
}

/** The shared state of one gateway. */
export interface GatewayContext {
  readonly config: GatewayConfig;
  readonly q: QuarantineService;
  readonly store: QuarantineStore;
  readonly upstream: Upstream;
  readonly auth: Authenticator;
  readonly manifests: ManifestCache;
  /** Delivers the outbox soon: called after every write. */
  readonly events: { kick(): void };
}

/** What stored manifests reference, by `(repository, digest)`. */
export interface ManifestCache {
  remember(repository: string, facts: ManifestFacts): void;
  /** The facts of a stored manifest, from the cache or the upstream; undefined when the upstream has none. */
  facts(repository: string, digest: string): Promise<ManifestFacts | undefined>;
  /** The live manifests of `repository` (as the machine records them) that reference `blob`. */
  referencing(repository: string, blob: string): Promise<readonly string[]>;
}

const MAX_ENTRIES = 50_000;

/** The accept header that asks the upstream for any manifest type the gateway understands. */
export const ACCEPT_MANIFESTS = MANIFEST_MEDIA_TYPES.join(', ');

/** A manifest cache over `upstream`, reading the machine's records from `store`. */
export function createManifestCache(upstream: Upstream, store: QuarantineStore): ManifestCache {
  const cache = new Map<string, ManifestFacts>();
  const remember = (repository: string, facts: ManifestFacts) => {
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(`${repository}@${facts.digest}`, facts);
  };
  const facts = async (repository: string, digest: string): Promise<ManifestFacts | undefined> => {
    const hit = cache.get(`${repository}@${digest}`);
    if (hit !== undefined) return hit;
    const up = await upstream.request('GET', `/v2/${repository}/manifests/${digest}`, { headers: { accept: ACCEPT_MANIFESTS } });
    const body = up.statusCode === 200 ? await readBody(up, MAX_MANIFEST_BYTES) : (up.resume(), undefined);
    const f = body === undefined ? undefined : factsOf(body, up.headers['content-type'], digest);
    if (f !== undefined) remember(repository, f);
    return f;
  };
  return {
    remember,
    facts,
    async referencing(repository, blob) {
      const state = await store.load(repository);
      const out: string[] = [];
      for (const rec of state.records.values()) {
        if (rec.deleted) continue;
        const f = await facts(repository, rec.digest);
        if (f?.blobs.includes(blob) === true) out.push(rec.digest);
      }
      return out;
    },
  };
}
