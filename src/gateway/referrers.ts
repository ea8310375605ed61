/**
 * The referrers API (`GET /v2/<name>/referrers/<digest>`, distribution-spec "Listing
 * Referrers") answered from the machine: a referrer inherits its subject's visibility
 * (quarantine.md §4, last row), and an unknown or hidden subject gets the same empty index as
 * one that never existed. Descriptors come from the upstream's own referrers list when it has
 * one (every `Link: <…>; rel="next"` page followed), else from the manifests themselves; the
 * upstream's list only describes, it never adds: a referrer the machine does not show (pushed
 * around the gateway, hidden, deleted) is left out. The gateway's answer is paginated with `n`
 * and `last` over the digests, with its own `Link`.
 *
 * @module
 */
import { z } from 'zod';
import type { Exchange, GatewayContext } from './context.js';
import type { RegistryErrorResponse } from '../quarantine/registry-view.js';
import { digestSchema } from '../quarantine/schemas.js';
import { paginate } from './listing.js';
import { MAX_MANIFEST_BYTES } from './manifest.js';
import { sendError, sendJson } from './respond.js';
import { readBody } from './upstream.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
/** Upstream pages followed at most (a registry that links forever is cut off). */
const MAX_UPSTREAM_PAGES = 64;

/** An OCI image index of referrer descriptors. */
export interface ReferrersIndex {
  readonly schemaVersion: 2;
  readonly mediaType: typeof INDEX;
  readonly manifests: readonly Descriptor[];
}

type Descriptor = { readonly digest: string } & Record<string, unknown>;

const upstreamPage = z.looseObject({
  manifests: z.array(
    z.looseObject({
      mediaType: z.string().min(1).max(255),
      digest: digestSchema,
      size: z.int().nonnegative(),
      artifactType: z.string().max(255).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    }),
  ),
});

/** The `rel="next"` target of a `Link` header, when it stays under `prefix` on the upstream. */
function nextPage(link: string | string[] | undefined, prefix: string): string | undefined {
  const text = Array.isArray(link) ? link.join(', ') : link;
  const m = text === undefined ? null : /<([^>]+)>\s*;\s*rel="?next"?/.exec(text);
  if (m?.[1] === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(m[1], 'http://upstream.invalid');
  } catch {
    return undefined;
  }
  return u.pathname === prefix ? `${u.pathname}${u.search}` : undefined;
}

/** The upstream's referrer descriptors of `subject`, by digest; empty when it has no referrers API. */
async function upstreamDescriptors(ctx: GatewayContext, name: string, subject: string): Promise<Map<string, Descriptor>> {
  const out = new Map<string, Descriptor>();
  const prefix = `/v2/${name}/referrers/${subject}`;
  let path: string | undefined = prefix;
  for (let page = 0; path !== undefined && page < MAX_UPSTREAM_PAGES; page++) {
    const up = await ctx.upstream.request('GET', path, { headers: { accept: INDEX } });
    const body = up.statusCode === 200 ? await readBody(up, MAX_MANIFEST_BYTES) : (up.resume(), undefined);
    let parsed: z.infer<typeof upstreamPage> | undefined;
    try {
      parsed = body === undefined ? undefined : upstreamPage.parse(JSON.parse(body.toString('utf8')));
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined) break;
    for (const d of parsed.manifests) out.set(d.digest, d);
    path = nextPage(up.headers.link, prefix);
  }
  return out;
}

/** What the index says about one referrer, from the upstream's descriptor or the manifest. */
async function describe(ctx: GatewayContext, name: string, digest: string, upstream: Map<string, Descriptor>): Promise<Descriptor | undefined> {
  const given = upstream.get(digest);
  if (given !== undefined) return given;
  const facts = await ctx.manifests.facts(name, digest);
  if (facts === undefined) return undefined;
  return {
    mediaType: facts.mediaType,
    digest,
    size: facts.size,
    ...(facts.artifactType !== undefined ? { artifactType: facts.artifactType } : {}),
    ...(facts.annotations !== undefined ? { annotations: facts.annotations } : {}),
  };
}

/**
 * The visible referrers of `subject` (sorted by digest), optionally of one artifact type; the
 * view's denial when it answers with a 403 (existence not hidden), so the caller relays it.
 */
export async function referrersIndex(
  ctx: GatewayContext,
  x: Exchange,
  name: string,
  subject: string,
  artifactType: string | undefined,
): Promise<ReferrersIndex | RegistryErrorResponse> {
  const view = await ctx.q.view(name);
  const access = view.referrers(x.caller.principal, subject);
  if (!access.allowed) return access.response.status === 404 ? { schemaVersion: 2, mediaType: INDEX, manifests: [] } : access.response;
  const upstream = access.digests.length === 0 ? new Map<string, Descriptor>() : await upstreamDescriptors(ctx, name, subject);
  const manifests: Descriptor[] = [];
  for (const digest of [...access.digests].sort()) {
    if (view.record(digest) === undefined) continue;
    const d = await describe(ctx, name, digest, upstream);
    if (d === undefined || (artifactType !== undefined && d['artifactType'] !== artifactType)) continue;
    manifests.push(d);
  }
  return { schemaVersion: 2, mediaType: INDEX, manifests };
}

/** `GET /v2/<name>/referrers/<digest>[?artifactType=…][&n=…&last=…]`, one page at a time. */
export async function getReferrers(ctx: GatewayContext, x: Exchange, name: string, subject: string): Promise<void> {
  const artifactType = x.query.get('artifactType') ?? undefined;
  const index = await referrersIndex(ctx, x, name, subject, artifactType);
  if (!('manifests' in index)) return sendError(x.res, index);
  const extra = artifactType === undefined ? '' : `artifactType=${encodeURIComponent(artifactType)}`;
  const page = paginate(index.manifests.map((d) => d.digest), x.query, `/v2/${name}/referrers/${subject}`, extra);
  if ('code' in page) return sendError(x.res, page);
  const shown = new Set(page.items);
  const headers: Record<string, string> = { 'Content-Type': INDEX };
  if (artifactType !== undefined) headers['OCI-Filters-Applied'] = 'artifactType';
  if (page.link !== undefined) headers['Link'] = page.link;
  sendJson(x.res, 200, { ...index, manifests: index.manifests.filter((d) => shown.has(d.digest)) }, headers);
}
