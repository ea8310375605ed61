/** Which notary-server serves a GUN, and the URLs of its files (notary-rules.md §7.4). */
import { TrustError } from '../errors.js';
import { registryKey, type RegistryServer } from './config.js';

/** docker's choice (`docker/cli: cli/trust/trust.go` `Server`): Docker Hub's notary, else the registry itself. */
export function defaultServer(gun: string): string {
  const registry = gun.split('/')[0] ?? '';
  if (registry === 'docker.io' || registry === 'index.docker.io') return 'https://notary.docker.io';
  return `https://${registry}`;
}

/**
 * The server for `gun`, strongest first: `server` (the `--server` flag or
 * DOCKER_CONTENT_TRUST_SERVER, resolved by the caller), the registry's entry in `registries`
 * (the config file; its CA applies only to its own server), docker's rule.
 */
export function pickServer(gun: string, server: string | undefined, registries: Readonly<Record<string, RegistryServer>> | undefined): { server: URL; tlsCa?: string } {
  if (server !== undefined) return { server: normaliseServer(server) };
  const entry = registries?.[registryKey(gun.split('/')[0] ?? '')];
  if (entry) return { server: normaliseServer(entry.server), ...(entry.tlsCa === undefined ? {} : { tlsCa: entry.tlsCa }) };
  return { server: normaliseServer(defaultServer(gun)) };
}

/** `http(s)://host[:port][/prefix]` without a trailing slash; anything else is a usage error. */
export function normaliseServer(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new TrustError('ERR_INVALID_ARGUMENT', `server ${JSON.stringify(server)} is not a URL (e.g. https://notary.example.com)`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new TrustError('ERR_INVALID_ARGUMENT', `server ${JSON.stringify(server)} must be a plain http(s)://host[:port][/path] URL`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

// The characters docker references allow in a GUN; anything else would change the URL's meaning.
const GUN = /^[A-Za-z0-9._-]+(?::[0-9]+)?(?:\/[a-z0-9._-]+)+$/;

export function checkGun(gun: string): void {
  if (typeof gun !== 'string' || !GUN.test(gun) || gun.split('/').some((s) => s === '.' || s === '..') || gun.length > 255) {
    throw new TrustError('ERR_INVALID_ARGUMENT', `GUN ${JSON.stringify(gun)} is not a repository name (host/path)`);
  }
}

/** `<server>/v2/<GUN>/_trust/tuf/<name>.json`; `name` is `timestamp`, `3.root`, `targets.<sha256hex>`, … */
export function fileUrl(server: URL, gun: string, name: string): URL {
  return new URL(`${server.href.replace(/\/$/, '')}/v2/${gun}/_trust/tuf/${name}.json`);
}
