/** The pure pieces of the fetch adapter: server choice, URLs, challenges, durations, options. */
import { describe, expect, it } from 'vitest';
import { parseBearerChallenge } from '../../src/fetch/auth.js';
import { checkGun, defaultServer, fileUrl, normaliseServer } from '../../src/fetch/server.js';
import { fetchTrustData } from '../../src/fetch/index.js';
import { parseDuration } from '../../src/cli/fetch.js';

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
