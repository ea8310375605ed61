/** https to a real notary-server whose certificate comes from a throw-away CA: `tlsCa` / `--tls-ca`. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchTrustData } from '../../src/fetch/index.js';
import { lookupTarget } from '../../src/index.js';
import { freshFetchOptions, notaryMissing, Publisher, runLive, startNotaryServer, tempDir, type NotaryServer } from './helpers/notary.js';

const GUN = 'registry.test:5000/tls/app';

describe.skipIf(!runLive)(`https with an extra CA${notaryMissing ? ` (skipped: ${notaryMissing})` : ''}`, () => {
  const tmp = tempDir('trustgate-tls-');
  let server: NotaryServer;
  let ca: string;
  let otherCa: string;
  const opts = freshFetchOptions(tmp.dir, GUN, () => server.url);

  beforeAll(async () => {
    const f = (x: string) => join(tmp.dir, x);
    const ossl = (...a: string[]) => execFileSync('openssl', a, { stdio: ['ignore', 'ignore', 'pipe'] });
    for (const name of ['ca', 'other']) {
      ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f(`${name}.key`));
      ossl('req', '-x509', '-new', '-key', f(`${name}.key`), '-sha256', '-days', '2', '-subj', `/CN=trustgate ${name} CA`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', f(`${name}.crt`));
    }
    ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('server.key'));
    ossl('req', '-new', '-key', f('server.key'), '-subj', '/CN=notary-server', '-out', f('server.csr'));
    writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
    ossl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-sha256', '-extfile', f('server.ext'), '-out', f('server.crt'));
    ca = readFileSync(f('ca.crt'), 'utf8');
    otherCa = readFileSync(f('other.crt'), 'utf8');
    server = await startNotaryServer(join(tmp.dir, 'server'), {}, { cert: f('server.crt'), key: f('server.key'), ca: f('ca.crt') });
    const pub = new Publisher(tmp.dir, server.url, {}, { remote_server: { root_ca: f('ca.crt') } });
    pub.run(['init', GUN]);
    pub.run(['add', GUN, 'v1', pub.file('v1', 'over tls\n')]);
    pub.run(['publish', GUN]);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  it('with the CA given: fetched and verified', async () => {
    const r = await fetchTrustData(opts({ tlsCa: ca }));
    expect(r.server.startsWith('https://127.0.0.1:')).toBe(true);
    expect(lookupTarget(r.repository, 'v1').role).toBe('targets');
  });

  it('without it, or with another CA: the certificate is not trusted → ERR_FETCH_UNREACHABLE', async () => {
    await expect(fetchTrustData(opts())).rejects.toMatchObject({ code: 'ERR_FETCH_UNREACHABLE', message: expect.stringMatching(/CERT|certificate/i) });
    await expect(fetchTrustData(opts({ tlsCa: otherCa }))).rejects.toMatchObject({ code: 'ERR_FETCH_UNREACHABLE' });
  });
});
