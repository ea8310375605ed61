/**
 * Which proxy a request goes through, as docker (Go's `net/http.ProxyFromEnvironment`) decides it:
 * `HTTPS_PROXY` for https, `HTTP_PROXY` for http (upper or lower case, upper first), unless
 * `NO_PROXY` names the host. Like Go, a request to `localhost` or a loopback address never goes
 * through a proxy.
 *
 * `NO_PROXY` is a comma-separated list: `*` (no proxy at all), a host name (that host and its
 * subdomains; a leading `.` means subdomains only), an IP address, a CIDR block, each optionally
 * with `:port`.
 */
import { BlockList, isIP } from 'node:net';
import { TrustError } from '../errors.js';

export type ProxyEnv = Readonly<Record<string, string | undefined>>;

const pick = (env: ProxyEnv, name: string): string | undefined => {
  const v = env[name.toUpperCase()] ?? env[name.toLowerCase()];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
};

/** The proxy URL for `target`, or undefined for a direct connection. */
export function proxyFor(target: URL, env: ProxyEnv): URL | undefined {
  const host = bareHost(target.hostname);
  if (isLoopback(host)) return undefined;
  const raw = pick(env, target.protocol === 'https:' ? 'https_proxy' : 'http_proxy');
  if (raw === undefined) return undefined;
  if (bypassed(host, effectivePort(target), pick(env, 'no_proxy'))) return undefined;
  // Go accepts a bare host:port and means http:// by it.
  let proxy: URL;
  try {
    proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new TrustError('ERR_INVALID_ARGUMENT', `the proxy setting ${JSON.stringify(raw)} is not a URL`, { check: 'proxy' });
  }
  if (proxy.protocol !== 'http:') {
    throw new TrustError('ERR_INVALID_ARGUMENT', `proxy ${proxy.origin}: only http:// proxies are supported (https targets are tunnelled with CONNECT)`, { check: 'proxy' });
  }
  return proxy;
}

const bareHost = (h: string) => h.replace(/^\[|\]$/g, '').toLowerCase();
const effectivePort = (u: URL) => u.port || (u.protocol === 'https:' ? '443' : '80');

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function bypassed(host: string, port: string, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  return noProxy.split(',').some((entry) => matches(host, port, entry.trim().toLowerCase()));
}

function matches(host: string, port: string, entry: string): boolean {
  if (entry === '') return false;
  if (entry === '*') return true;
  if (entry.includes('/')) return inCidr(host, entry);
  const [name, entryPort] = splitPort(entry);
  if (entryPort !== undefined && entryPort !== port) return false;
  if (isIP(name) !== 0) return name === host;
  if (name.startsWith('.')) return host.endsWith(name);
  return host === name || host.endsWith(`.${name}`);
}

function splitPort(entry: string): [string, string | undefined] {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (v6) return [v6[1] as string, v6[2]];
  const m = /^([^:]+):(\d+)$/.exec(entry);
  return m ? [m[1] as string, m[2]] : [entry, undefined];
}

function inCidr(host: string, cidr: string): boolean {
  const family = isIP(host);
  const [net, bits] = cidr.split('/') as [string, string];
  if (family === 0 || isIP(net) !== family || !/^\d+$/.test(bits)) return false;
  const list = new BlockList();
  list.addSubnet(net, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  return list.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

/** `Proxy-Authorization` for a proxy URL with credentials (`http://user:pass@proxy:3128`). */
export function proxyAuthorization(proxy: URL): Record<string, string> {
  if (proxy.username === '') return {};
  const user = decodeURIComponent(proxy.username);
  const pass = decodeURIComponent(proxy.password);
  return { 'proxy-authorization': `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
}
