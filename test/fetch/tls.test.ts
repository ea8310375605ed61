/**
 * https to a real notary-server whose certificate comes from a throw-away CA: `tlsCa` / `--tls-ca`;
 * and the same server reached only through an HTTPS_PROXY (a CONNECT proxy in the test that alone
 * knows where `notary.test` is), as docker reaches a notary server behind a proxy.
 */
import { createServer, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchTrustData } from '../../src/fetch/index.js';
import { lookupTarget } from '../../src/index.js';
import { freshFetchOptions, notaryMissing, Publisher, runLive, startNotaryServer, tempDir, type NotaryServer } from './helpers/notary.js';
import { makeTlsFiles } from './helpers/tls-files.js';

const GUN = 'registry.test:5000/tls/app';

describe.skipIf(!runLive)(`https with an extra CA${notaryMissing ? ` (skipped: ${notaryMissing})` : ''}`, () => {
  const tmp = tempDir('trustgate-tls-');
  let server: NotaryServer;
  let ca: string;
  let otherCa: string;
  const opts = freshFetchOptions(tmp.dir, GUN, () => server.url);
  // The same server by a name only the test's CONNECT proxy resolves.
  const byName = freshFetchOptions(join(tmp.dir, 'by-name'), GUN, () => server.url.replace('127.0.0.1', 'notary.test'));

  beforeAll(async () => {
    const tls = makeTlsFiles(tmp.dir, 'notary-server', ['notary.test']);
    ca = tls.ca;
    otherCa = tls.otherCa;
    server = await startNotaryServer(join(tmp.dir, 'server'), {}, { tls: { cert: tls.certFile, key: tls.keyFile, ca: tls.caFile } });
    const pub = new Publisher(tmp.dir, server.url, {}, { remote_server: { root_ca: tls.caFile } });
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

  it("a registry's config entry (registries) names the server and its CA; --tls-ca adds to it; an explicit server drops the entry's CA", async () => {
    const withoutServer = (extra: object = {}) => {
      const { server: _explicit, ...o } = opts(extra);
      return o;
    };
    const registries = { 'registry.test:5000': { server: server.url, tlsCa: ca } };
    const r = await fetchTrustData({ ...withoutServer(), registries });
    expect(r.server).toBe(`${server.url}/`);
    expect(lookupTarget(r.repository, 'v1').role).toBe('targets');
    // Another CA on top does not take the entry's away.
    expect((await fetchTrustData({ ...withoutServer({ tlsCa: otherCa }), registries })).server).toBe(`${server.url}/`);
    // The entry's CA belongs to the entry's server: given the same server explicitly, it does not apply.
    await expect(fetchTrustData(opts({ registries }))).rejects.toMatchObject({ code: 'ERR_FETCH_UNREACHABLE' });
  });

  it('HTTPS_PROXY: the server is reached through a CONNECT tunnel, certificate checked for notary.test', async () => {
    const proxy = await startConnectProxy();
    try {
      const port = new URL(server.url).port;
      const r = await fetchTrustData(byName({ tlsCa: ca, proxyEnv: { HTTPS_PROXY: proxy.url.replace('http://', 'http://u:p%40ss@') } }));
      expect(lookupTarget(r.repository, 'v1').role).toBe('targets');
      expect(proxy.asked.length).toBeGreaterThan(0);
      expect(new Set(proxy.asked)).toEqual(new Set([`CONNECT notary.test:${port} Basic ${Buffer.from('u:p@ss').toString('base64')}`]));
    } finally {
      await proxy.close();
    }
  });

  it('NO_PROXY naming the host, or a proxy that refuses CONNECT: not fetched, ERR_FETCH_UNREACHABLE', async () => {
    const proxy = await startConnectProxy();
    const refusing = await startConnectProxy(407);
    try {
      const bypass = fetchTrustData(byName({ tlsCa: ca, retries: 0, proxyEnv: { https_proxy: proxy.url, NO_PROXY: 'example.com, .test' } }));
      await expect(bypass).rejects.toMatchObject({ code: 'ERR_FETCH_UNREACHABLE' });
      expect(proxy.asked).toEqual([]);
      const refused = fetchTrustData(byName({ tlsCa: ca, retries: 0, proxyEnv: { HTTPS_PROXY: refusing.url } }));
      await expect(refused).rejects.toMatchObject({ code: 'ERR_FETCH_UNREACHABLE', message: expect.stringContaining('refused CONNECT notary.test') });
    } finally {
      await proxy.close();
      await refusing.close();
    }
  });
});

/** A CONNECT proxy that maps `notary.test` to 127.0.0.1 and records what it was asked; `status` other than 200 refuses. */
async function startConnectProxy(status = 200): Promise<{ url: string; asked: string[]; close(): Promise<void> }> {
  const asked: string[] = [];
  const tunnels = new Set<{ destroy(): void }>();
  const server: Server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client) => {
    tunnels.add(client);
    asked.push(`${req.method} ${req.url} ${req.headers['proxy-authorization'] ?? ''}`.trim());
    if (status !== 200) {
      client.end(`HTTP/1.1 ${status} Nope\r\n\r\n`);
      return;
    }
    const [host, port] = (req.url ?? '').split(':') as [string, string];
    const upstream = netConnect(Number(port), host === 'notary.test' ? '127.0.0.1' : host, () => {
      tunnels.add(upstream);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, asked, close: () => new Promise((r) => { for (const t of tunnels) t.destroy(); server.closeAllConnections(); server.close(() => r()); }) };
}

