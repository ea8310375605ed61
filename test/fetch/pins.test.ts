/**
 * Pins for the first fetch of a GUN (Notary's trust_pinning `certs`, and the root's public key),
 * against a real notary-server. Once a root is trusted it is the pin, as in Notary (spec §6.1).
 */
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchTrustData } from '../../src/fetch/index.js';
import { freshFetchOptions, notaryMissing, Publisher, runLive, snapshotTree, startNotaryServer, tempDir, type NotaryServer } from './helpers/notary.js';

const GUN = 'registry.test:5000/pins/app';

describe.skipIf(!runLive)(`root pins on the first fetch${notaryMissing ? ` (skipped: ${notaryMissing})` : ''}`, () => {
  const tmp = tempDir('trustgate-pins-');
  let server: NotaryServer;
  let rootKeyId: string;
  let rootPublicKey: string;
  const opts = freshFetchOptions(tmp.dir, GUN, () => server.url);
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

  beforeAll(async () => {
    server = await startNotaryServer(join(tmp.dir, 'server'));
    const pub = new Publisher(tmp.dir, server.url);
    pub.run(['init', GUN]);
    pub.run(['add', GUN, 'v1', pub.file('v1', 'pinned\n')]);
    pub.run(['publish', GUN]);
    const root = JSON.parse(await (await fetch(`${server.url}/v2/${GUN}/_trust/tuf/root.json`)).text()) as {
      signed: { keys: Record<string, { keyval: { public: string } }>; roles: { root: { keyids: string[] } } };
    };
    rootKeyId = root.signed.roles.root.keyids[0] as string;
    const pem = Buffer.from(root.signed.keys[rootKeyId]!.keyval.public, 'base64').toString('utf8');
    rootPublicKey = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  it('trust_pinning certs: the right root key ID passes, another fails with ERR_ROOT_PIN_MISMATCH and writes nothing', async () => {
    await expect(fetchTrustData(opts({ pins: { certs: { [GUN]: [rootKeyId] } } }))).resolves.toMatchObject({ changed: true });
    const o = opts({ pins: { certs: { 'registry.test:5000/pins/*': ['0'.repeat(64)] } } });
    await expect(fetchTrustData(o)).rejects.toMatchObject({ code: 'ERR_ROOT_PIN_MISMATCH' });
    expect(snapshotTree(o.trustDir)).toEqual({});
    expect(snapshotTree(o.stateDir)).toEqual({});
  });

  it("the root's public key (PEM): the signer's key passes, another key fails", async () => {
    await expect(fetchTrustData(opts({ pins: { rootPublicKeys: { [GUN]: [otherKey, rootPublicKey] } } }))).resolves.toMatchObject({ changed: true });
    await expect(fetchTrustData(opts({ pins: { rootPublicKeys: { 'registry.test:5000/*': [otherKey] } } }))).rejects.toMatchObject({
      code: 'ERR_ROOT_PIN_MISMATCH',
    });
  });

  it('after the first fetch the trusted root is the pin: later pins are not consulted', async () => {
    const o = opts();
    await fetchTrustData(o);
    await expect(fetchTrustData({ ...o, now: new Date(), pins: { rootPublicKeys: { [GUN]: [otherKey] } } })).resolves.toMatchObject({ changed: false });
  });
});
