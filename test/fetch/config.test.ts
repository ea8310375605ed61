/**
 * The per-registry config file (src/fetch/config.ts) and the server choice it feeds: `--server` /
 * DOCKER_CONTENT_TRUST_SERVER, then the registry's entry, then docker's rule.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfigFile, readFetchConfig } from '../../src/fetch/index.js';
import { pickServer } from '../../src/fetch/server.js';
import { tempDir } from './helpers/notary.js';

const tmp = tempDir('trustgate-config-');
afterAll(() => tmp.cleanup());

function configFile(name: string, body: unknown): string {
  const file = join(tmp.dir, name);
  writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body));
  return file;
}

const error = (f: () => unknown): { code?: string; message: string } => {
  try {
    f();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected an error');
};

describe('readFetchConfig', () => {
  it('keys are registry hosts without case; index.docker.io is docker.io; a relative tlsCa is read beside the file', () => {
    mkdirSync(join(tmp.dir, 'cas'), { recursive: true });
    writeFileSync(join(tmp.dir, 'cas', 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const file = configFile('good.json', {
      registries: {
        'Registry.Example.com:5000': { server: 'https://notary.example.com:4443/prefix', tlsCa: 'cas/ca.pem' },
        'index.docker.io': { server: 'https://notary.mirror.example' },
      },
    });
    expect(readFetchConfig(file)).toEqual({
      'registry.example.com:5000': { server: 'https://notary.example.com:4443/prefix', tlsCa: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' },
      'docker.io': { server: 'https://notary.mirror.example' },
    });
  });

  it('errors are ERR_INVALID_ARGUMENT and name the file and the field', () => {
    const cases: [unknown, RegExp][] = [
      ['{"registries":', /not JSON/],
      [{}, /registries: /],
      [{ registries: { 'r.example': {} } }, /registries\["r\.example"\]\.server: /],
      [{ registries: { 'r.example': { server: 'ftp://x' } } }, /registries\["r\.example"\]\.server: must be a plain http\(s\)/],
      [{ registries: { 'r.example': { server: 'https://n', tlsCa: 'missing.pem' } } }, /registries\["r\.example"\]\.tlsCa: cannot read .*missing\.pem/],
      [{ registries: { 'https://r.example/v2': { server: 'https://n' } } }, /registries\["https:\/\/r\.example\/v2"\]: a registry key must be host\[:port\]/],
      [{ registries: { 'r.example': { server: 'https://n', sever: 'x' } } }, /registries\["r\.example"\]: .*sever/],
      [{ registries: { 'docker.io': { server: 'https://a' }, 'INDEX.docker.io': { server: 'https://b' } } }, /names the same registry as another key \(docker\.io\)/],
      [{ registries: {}, extra: 1 }, /extra/],
    ];
    cases.forEach(([body, message], i) => {
      const file = configFile(`bad-${i}.json`, body);
      const e = error(() => readFetchConfig(file));
      expect(e.code, e.message).toBe('ERR_INVALID_ARGUMENT');
      expect(e.message, JSON.stringify(body)).toMatch(message);
      expect(e.message).toContain(file);
    });
  });

  it('a missing file is an error when named, an empty configuration at the default location', () => {
    const missing = join(tmp.dir, 'nope.json');
    expect(error(() => readFetchConfig(missing))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/cannot read it: ENOENT/) });
    expect(readFetchConfig(missing, true)).toEqual({});
    // Optional covers only absence: a default file that is there must be good.
    expect(error(() => readFetchConfig(configFile('bad-default.json', '[]'), true)).code).toBe('ERR_INVALID_ARGUMENT');
  });

  it('the default file follows XDG_CONFIG_HOME (absolute only), else ~/.config', () => {
    expect(defaultConfigFile({ XDG_CONFIG_HOME: '/etc/xdg-test' })).toBe('/etc/xdg-test/trustgate/config.json');
    expect(defaultConfigFile({ XDG_CONFIG_HOME: 'relative' })).toMatch(/\/\.config\/trustgate\/config\.json$/);
  });
});

describe('pickServer: the explicit server, then the registry entry, then docker', () => {
  const registries = { 'registry.example.com': { server: 'https://notary.example.com/', tlsCa: 'PEM' }, 'docker.io': { server: 'http://127.0.0.1:4443' } };

  it('an explicit server wins and brings no registry CA', () => {
    expect(pickServer('registry.example.com/a/b', 'https://other.example', registries)).toEqual({ server: new URL('https://other.example') });
  });

  it('the registry entry comes next, with its CA; host case does not matter', () => {
    const r = pickServer('REGISTRY.example.com/a/b', undefined, registries);
    expect([r.server.href, r.tlsCa]).toEqual(['https://notary.example.com/', 'PEM']);
    expect(pickServer('docker.io/library/alpine', undefined, registries).server.href).toBe('http://127.0.0.1:4443/');
  });

  it('no entry: docker rule (a registry on another port is another registry)', () => {
    expect(pickServer('registry.example.com:5000/a/b', undefined, registries)).toEqual({ server: new URL('https://registry.example.com:5000') });
    expect(pickServer('docker.io/library/alpine', undefined, {}).server.href).toBe('https://notary.docker.io/');
  });
});
