/**
 * `tags/list` and `_catalog`, computed from the machine, never from the upstream (whose tags the
 * gateway does not write): an ordinary caller lists only what it may pull (quarantine.md §1.8),
 * with `n`/`last` pagination and the `Link` header recomputed over the filtered list
 * (distribution-spec "Listing Tags").
 *
 * @module
 */
import type { Exchange, GatewayContext } from './context.js';
import { NAME_UNKNOWN, sendError, sendJson } from './respond.js';
import type { GatewayError } from './respond.js';

/** distribution's default and largest page. */
const MAX_PAGE = 1000;

/**
 * One page of a sorted list after `last`, with the `Link` to the next page when there is one;
 * `extra` (an encoded query, e.g. `artifactType=…`) is kept in that link.
 */
export function paginate(all: readonly string[], query: URLSearchParams, path: string, extra = ''): { items: string[]; link: string | undefined } | GatewayError {
  const nText = query.get('n');
  if (nText !== null && !/^[0-9]{1,9}$/.test(nText)) return { status: 400, code: 'UNSUPPORTED', message: 'n must be a non-negative integer' };
  const n = nText === null ? MAX_PAGE : Math.min(Number(nText), MAX_PAGE);
  const last = query.get('last');
  const after = last === null ? all : all.filter((t) => t > last);
  const items = after.slice(0, n);
  const more = after.length > items.length && items.length > 0;
  const link = more ? `<${path}?n=${n}&last=${encodeURIComponent(items[items.length - 1] as string)}${extra === '' ? '' : `&${extra}`}>; rel="next"` : undefined;
  return { items, link };
}

/** `GET /v2/<name>/tags/list`. */
export async function listTags(ctx: GatewayContext, x: Exchange, name: string): Promise<void> {
  const view = await ctx.q.view(name);
  const tags = view.tags(x.caller.principal);
  // A repository with nothing the caller may see is unknown to it, exactly like an absent one (Q2).
  if (tags.length === 0 && !view.inCatalog(x.caller.principal)) return sendError(x.res, NAME_UNKNOWN);
  const page = paginate(tags, x.query, `/v2/${name}/tags/list`);
  if ('code' in page) return sendError(x.res, page);
  sendJson(x.res, 200, { name, tags: page.items }, page.link === undefined ? {} : { Link: page.link });
}

/** `GET /v2/_catalog`: the repositories holding something the caller may see. */
export async function listCatalog(ctx: GatewayContext, x: Exchange): Promise<void> {
  const visible: string[] = [];
  for (const repository of [...(await ctx.store.repositories())].sort()) {
    if ((await ctx.q.view(repository)).inCatalog(x.caller.principal)) visible.push(repository);
  }
  const page = paginate(visible, x.query, '/v2/_catalog');
  if ('code' in page) return sendError(x.res, page);
  sendJson(x.res, 200, { repositories: page.items }, page.link === undefined ? {} : { Link: page.link });
}
