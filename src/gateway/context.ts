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
  /** Epoch milliseconds: token lifetimes. */
  readonly clock: () => number;
}

/** What stored manifests reference, by `(repository, digest)`. */
export interface ManifestCache {
  remember(repository: string, facts: ManifestFacts, body?: Buffer): void;
  /** The facts of a stored manifest, from the cache or the upstream; undefined when the upstream has none. */
  facts(repository: string, digest: string): Promise<ManifestFacts | undefined>;
  /** The live manifests of `repository` (as the machine records them) that reference `blob`. */
  referencing(repository: string, blob: string): Promise<readonly string[]>;
  /** The bytes of a stored manifest the gateway understands, from the cache or the upstream. */
  body(repository: string, digest: string): Promise<{ readonly body: Buffer; readonly facts: ManifestFacts } | undefined>;
}

const MAX_ENTRIES = 50_000;
/** Manifest bodies kept for serving without an upstream round trip (they are immutable: content-addressed). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** The accept header that asks the upstream for any manifest type the gateway understands. */
export const ACCEPT_MANIFESTS = MANIFEST_MEDIA_TYPES.join(', ');

/** A manifest cache over `upstream`, reading the machine's records from `store`. */
export function createManifestCache(upstream: Upstream, store: QuarantineStore): ManifestCache {
  const cache = new Map<string, ManifestFacts>();
  const bodies = new Map<string, Buffer>();
  let bodyBytes = 0;
  const remember = (repository: string, facts: ManifestFacts, body?: Buffer) => {
    const key = `${repository}@${facts.digest}`;
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(key, facts);
    if (body === undefined || bodies.has(key)) return;
    for (const [k, b] of bodies) {
      if (bodyBytes + body.length <= MAX_BODY_BYTES) break;
      bodies.delete(k);
      bodyBytes -= b.length;
    }
    bodies.set(key, body);
    bodyBytes += body.length;
  };
  const fetchManifest = async (repository: string, digest: string) => {
    const up = await upstream.request('GET', `/v2/${repository}/manifests/${digest}`, { headers: { accept: ACCEPT_MANIFESTS } });
    const body = up.statusCode === 200 ? await readBody(up, MAX_MANIFEST_BYTES) : (up.resume(), undefined);
    const f = body === undefined ? undefined : factsOf(body, up.headers['content-type'], digest);
    if (f !== undefined) remember(repository, f, body);
    return f === undefined || body === undefined ? undefined : { body, facts: f };
  };
  const facts = async (repository: string, digest: string): Promise<ManifestFacts | undefined> =>
    cache.get(`${repository}@${digest}`) ?? (await fetchManifest(repository, digest))?.facts;
  return {
    remember,
    facts,
    async body(repository, digest) {
      const key = `${repository}@${digest}`;
      const [body, f] = [bodies.get(key), cache.get(key)];
      return body !== undefined && f !== undefined ? { body, facts: f } : fetchManifest(repository, digest);
    },
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
