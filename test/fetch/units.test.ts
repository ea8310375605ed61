/** The pure pieces of the fetch adapter: server choice, URLs, challenges, durations, options. */
import { describe, expect, it } from 'vitest';
import { parseBearerChallenge } from '../../src/fetch/auth.js';
import { checkGun, defaultServer, fileUrl, normaliseServer } from '../../src/fetch/server.js';
import { fetchTrustData } from '../../src/fetch/index.js';
import { parseDuration } from '../../src/cli/fetch.js';
import { proxyFor } from '../../src/fetch/proxy.js';

describe('server choice (docker/cli trust.go Server)', () => {
  it('docker.io goes to notary.docker.io, any other registry to itself over https', () => {
    expect(defaultServer('docker.io/library/alpine')).toBe('https://notary.docker.io');
    expect(defaultServer('myregistry.azurecr.io/team/app')).toBe('https://myregistry.azurecr.io');
    expect(defaultServer('127.0.0.1:5000/a/b')).toBe('https://127.0.0.1:5000');
  });

  it('file URLs follow notary-server routes; servers must be plain http(s) URLs', () => {
    expect(fileUrl(normaliseServer('https://n.example:4443/prefix/'), 'r.example/a/b', 'targets.ab12').href).toBe(
      'https://n.example:4443/prefix/v2/r.example/a/b/_trust/tuf/targets.ab12.json',
    );
    for (const bad of ['ftp://x', 'https://u:p@x', 'https://x/?q=1', 'not a url']) {
      expect(() => normaliseServer(bad), bad).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });

  it('a GUN that would change the URL is refused', () => {
    for (const bad of ['a', 'a/../b', 'a/b?x', 'a/b#c', 'a/B', '/a/b', 'a//b', 'a/b/..']) {
      expect(() => checkGun(bad), bad).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
    expect(() => checkGun('registry.test:5000/a/b-c_d.e')).not.toThrow();
  });
});

describe('WWW-Authenticate parsing', () => {
  it('reads quoted and bare parameters, case-insensitively, and only Bearer', () => {
    expect(parseBearerChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"')).toEqual({
      realm: 'https://auth.docker.io/token',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io' },
    });
    expect(parseBearerChallenge('bearer Realm=https://a/t, service=s')?.params).toEqual({ realm: 'https://a/t', service: 's' });
    expect(parseBearerChallenge('Basic realm="x"')).toBeUndefined();
    expect(parseBearerChallenge('Bearer service="s"')).toBeUndefined();
    expect(parseBearerChallenge(undefined)).toBeUndefined();
  });
});

describe('options', () => {
  it('durations', () => {
    expect(parseDuration('t', '500ms')).toBe(500);
    expect(parseDuration('t', '24h')).toBe(86_400_000);
    expect(() => parseDuration('t', '5 minutes')).toThrow(/not a duration/);
  });

  it('bad options are ERR_INVALID_ARGUMENT before any request; the state directory may not sit inside the trust directory', async () => {
    const base = { gun: 'r.example/a/b', server: 'http://127.0.0.1:1', now: new Date(), dockerConfigDir: false as const };
    await expect(fetchTrustData({ ...base, now: new Date(Number.NaN) })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(fetchTrustData({ ...base, timeoutMs: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(fetchTrustData({ ...base, trustDir: '/tmp/x-trust', stateDir: '/tmp/x-trust/state' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(fetchTrustData({ ...base, trustDir: '/tmp/x-trust', stateDir: '/tmp/x-trust' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('an aborted signal is ERR_FETCH_ABORTED', async () => {
    const c = new AbortController();
    c.abort();
    await expect(
      fetchTrustData({ gun: 'r.example/a/b', server: 'http://127.0.0.1:1', now: new Date(), dockerConfigDir: false, trustDir: '/nonexistent/t', stateDir: '/nonexistent/s', signal: c.signal }),
    ).rejects.toMatchObject({ code: 'ERR_FETCH_ABORTED' });
  });
});

describe('proxyFor: HTTPS_PROXY / HTTP_PROXY / NO_PROXY as docker reads them', () => {
  const u = (s: string) => new URL(s);
  const via = (url: string, env: Record<string, string>) => proxyFor(u(url), env)?.href;
  it('picks the proxy by scheme, upper case first, a bare host:port meaning http://', () => {
    expect(via('https://notary.example.com/', { HTTPS_PROXY: 'http://p:3128', https_proxy: 'http://q:1' })).toBe('http://p:3128/');
    expect(via('https://notary.example.com/', { https_proxy: 'q:8080' })).toBe('http://q:8080/');
    expect(via('http://notary.example.com/', { HTTPS_PROXY: 'http://p:3128' })).toBeUndefined();
    expect(via('http://notary.example.com/', { HTTP_PROXY: 'http://p:3128' })).toBe('http://p:3128/');
    expect(via('https://notary.example.com/', { HTTPS_PROXY: '  ' })).toBeUndefined();
  });
  it('never proxies localhost or loopback, as Go does', () => {
    for (const url of ['https://localhost:4443/', 'https://127.0.0.1/', 'https://127.9.9.9/', 'https://[::1]:443/', 'https://a.localhost/']) {
      expect(via(url, { HTTPS_PROXY: 'http://p:3128' }), url).toBeUndefined();
    }
  });
  it('NO_PROXY: *, hosts and their subdomains, leading dot, ports, IPs and CIDR blocks', () => {
    const env = (no: string) => ({ HTTPS_PROXY: 'http://p:3128', NO_PROXY: no });
    expect(via('https://a.example.com/', env('*'))).toBeUndefined();
    expect(via('https://example.com/', env('example.com'))).toBeUndefined();
    expect(via('https://a.example.com/', env('example.com'))).toBeUndefined();
    expect(via('https://notexample.com/', env('example.com'))).toBe('http://p:3128/');
    expect(via('https://example.com/', env('.example.com'))).toBe('http://p:3128/');
    expect(via('https://a.example.com/', env('.example.com'))).toBeUndefined();
    expect(via('https://example.com:4443/', env('example.com:443'))).toBe('http://p:3128/');
    expect(via('https://example.com/', env('example.com:443'))).toBeUndefined();
    expect(via('https://10.1.2.3/', env('10.0.0.0/8'))).toBeUndefined();
    expect(via('https://11.1.2.3/', env('10.0.0.0/8'))).toBe('http://p:3128/');
    expect(via('https://10.1.2.3/', env(' other.org , 10.1.2.3'))).toBeUndefined();
    expect(via('https://EXAMPLE.com/', env('Example.COM'))).toBeUndefined();
  });
  it('a proxy setting that is not an http:// URL is ERR_INVALID_ARGUMENT', () => {
    expect(() => proxyFor(u('https://n.example/'), { HTTPS_PROXY: 'socks5://p:1080' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => proxyFor(u('https://n.example/'), { HTTPS_PROXY: 'http://[bad' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
