/**
 * Request routing: the OCI distribution endpoints (distribution-spec "Endpoints"), ACR's
 * quarantine REST (quarantine.md §1.5) and the token endpoint. Names and references are checked
 * against distribution's grammar here, on the raw path, so that `..`, `%2e` or `//` never reach
 * a handler or the upstream.
 *
 * @module
 */
import { digestSchema, repositorySchema, tagSchema } from '../quarantine/schemas.js';

/** A request the gateway knows how to answer. */
export type Route =
  | { readonly kind: 'base' }
  | { readonly kind: 'token' }
  | { readonly kind: 'catalog' }
  | { readonly kind: 'tags'; readonly name: string }
  | { readonly kind: 'manifest'; readonly name: string; readonly ref: { readonly tag: string } | { readonly digest: string } }
  | { readonly kind: 'blob'; readonly name: string; readonly digest: string }
  | { readonly kind: 'upload'; readonly name: string; readonly rest: string }
  | { readonly kind: 'referrers'; readonly name: string; readonly digest: string }
  | { readonly kind: 'acr'; readonly name: string; readonly digest: string }
  | { readonly kind: 'invalid-name' }
  | { readonly kind: 'invalid-reference'; readonly what: 'manifest' | 'blob' }
  | { readonly kind: 'unknown' };

const isName = (s: string) => repositorySchema.safeParse(s).success;
const isDigest = (s: string) => digestSchema.safeParse(s).success;

/** `<name>/<suffix…>` where `name` is the longest prefix before one of the endpoint keywords. */
function splitName(path: string, keyword: string): { name: string; rest: string } | undefined {
  const i = path.lastIndexOf(`/${keyword}/`);
  if (i <= 0) return undefined;
  return { name: path.slice(0, i), rest: path.slice(i + keyword.length + 2) };
}

function v2Route(path: string): Route {
  if (path === '' || path === '/') return { kind: 'base' };
  if (path === '_catalog') return { kind: 'catalog' };
  if (path.endsWith('/tags/list')) {
    const name = path.slice(0, -'/tags/list'.length);
    return isName(name) ? { kind: 'tags', name } : { kind: 'invalid-name' };
  }
  const upload = splitName(path, 'blobs/uploads') ?? (path.endsWith('/blobs/uploads') ? { name: path.slice(0, -'/blobs/uploads'.length), rest: '' } : undefined);
  if (upload !== undefined) {
    if (!isName(upload.name)) return { kind: 'invalid-name' };
    return /^[A-Za-z0-9_=-]*$/.test(upload.rest) ? { kind: 'upload', name: upload.name, rest: upload.rest } : { kind: 'unknown' };
  }
  for (const keyword of ['manifests', 'blobs', 'referrers'] as const) {
    const m = splitName(path, keyword);
    if (m === undefined) continue;
    if (!isName(m.name)) return { kind: 'invalid-name' };
    if (keyword === 'manifests') {
      if (isDigest(m.rest)) return { kind: 'manifest', name: m.name, ref: { digest: m.rest } };
      if (tagSchema.safeParse(m.rest).success) return { kind: 'manifest', name: m.name, ref: { tag: m.rest } };
      return { kind: 'invalid-reference', what: 'manifest' };
    }
    if (!isDigest(m.rest)) return { kind: 'invalid-reference', what: keyword === 'blobs' ? 'blob' : 'manifest' };
    return keyword === 'blobs' ? { kind: 'blob', name: m.name, digest: m.rest } : { kind: 'referrers', name: m.name, digest: m.rest };
  }
  return { kind: 'unknown' };
}

/**
 * The route of a raw request path (without the query).
 *
 * @example
 * ```ts
 * route('/v2/team/app/manifests/v1'); // { kind: 'manifest', name: 'team/app', ref: { tag: 'v1' } }
 * route('/v2/../etc/manifests/v1');   // { kind: 'invalid-name' }
 * ```
 */
export function route(path: string): Route {
  if (path === '/v2' || path.startsWith('/v2/')) return v2Route(path.slice(4));
  if (path === '/token') return { kind: 'token' };
  const acr = /^\/acr\/v1\/(.+)\/_manifests\/([^/]+)$/.exec(path);
  if (acr !== null) {
    const [, name = '', digest = ''] = acr;
    if (!isName(name)) return { kind: 'invalid-name' };
    return isDigest(digest) ? { kind: 'acr', name, digest } : { kind: 'invalid-reference', what: 'manifest' };
  }
  return { kind: 'unknown' };
}
