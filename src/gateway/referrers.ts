/**
 * The referrers API (`GET /v2/<name>/referrers/<digest>`, distribution-spec "Listing
 * Referrers") answered from the machine: a referrer inherits its subject's visibility
 * (quarantine.md §4, last row), and an unknown or hidden subject gets the same empty index as
 * one that never existed.
 *
 * @module
 */
import type { Exchange, GatewayContext } from './context.js';
import type { RegistryErrorResponse } from '../quarantine/registry-view.js';
import { sendError, sendJson } from './respond.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';

/** An OCI image index of referrer descriptors. */
export interface ReferrersIndex {
  readonly schemaVersion: 2;
  readonly mediaType: typeof INDEX;
  readonly manifests: readonly Record<string, unknown>[];
}

/**
 * The visible referrers of `subject`, optionally of one artifact type; the view's denial when it
 * answers with a 403 (existence not hidden), so the caller relays it.
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
  const manifests: Record<string, unknown>[] = [];
  for (const digest of access.digests) {
    const rec = view.record(digest);
    const facts = await ctx.manifests.facts(name, digest);
    if (rec === undefined || facts === undefined) continue;
    if (artifactType !== undefined && facts.artifactType !== artifactType) continue;
    manifests.push({
      mediaType: facts.mediaType,
      digest,
      size: facts.size,
      ...(facts.artifactType !== undefined ? { artifactType: facts.artifactType } : {}),
      ...(facts.annotations !== undefined ? { annotations: facts.annotations } : {}),
    });
  }
  return { schemaVersion: 2, mediaType: INDEX, manifests };
}

/** `GET /v2/<name>/referrers/<digest>[?artifactType=…]`. */
export async function getReferrers(ctx: GatewayContext, x: Exchange, name: string, subject: string): Promise<void> {
  const artifactType = x.query.get('artifactType') ?? undefined;
  const index = await referrersIndex(ctx, x, name, subject, artifactType);
  if (!('manifests' in index)) return sendError(x.res, index);
  sendJson(x.res, 200, index, { 'Content-Type': INDEX, ...(artifactType !== undefined ? { 'OCI-Filters-Applied': 'artifactType' } : {}) });
}
