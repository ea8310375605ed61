/**
 * Pinning a GUN's root by public key (src/verify/root-key-pins.ts), in-process on the real Notary
 * vectors: the key of a root certificate whose signature counted must be pinned; a pinned key
 * that the root merely lists does not do; the GUN table's exact and longest-prefix rule decides
 * which pins apply. (test/fetch/pins.test.ts runs the same rule against a real notary-server.)
 */
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkRootKeyPins } from '../../src/verify/root-key-pins.js';
import { verifyTrustDir } from '../../src/trust-dir/reader.js';
import type { TufKeyJson, VerifiedRepository } from '../../src/verify/types.js';
import { scenario } from '../helpers/vectors.js';

const load = (name: string) => {
  const s = scenario(name);
  return verifyTrustDir({ gun: s.gun, trustDir: s.trustDir, now: s.now });
};
const hub = load('hub-like'); // docker.io/acme/hub
const other = load('basic'); // docker.io/acme/app: another root key
const spkiPem = (k: TufKeyJson) => new X509Certificate(Buffer.from(k.keyval.public, 'base64')).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signerKey = (repo: VerifiedRepository) => spkiPem(repo.root.keys[repo.root.signedBy[0] as string] as TufKeyJson);
const HUB_KEY = signerKey(hub);
const OTHER_KEY = signerKey(other);

function caught(f: () => unknown): Record<string, unknown> | undefined {
  try {
    f();
  } catch (e) {
    return e as Record<string, unknown>;
  }
  return undefined;
}

describe('checkRootKeyPins', () => {
  it("the signer's key pinned by exact GUN or prefix passes, among other pinned keys", () => {
    expect(HUB_KEY).not.toBe(OTHER_KEY);
    expect(caught(() => checkRootKeyPins(hub, { [hub.gun]: [HUB_KEY] }))).toBeUndefined();
    expect(caught(() => checkRootKeyPins(hub, { 'docker.io/acme/*': [OTHER_KEY, HUB_KEY] }))).toBeUndefined();
  });

  it('another key is ERR_ROOT_PIN_MISMATCH naming the signers', () => {
    expect(caught(() => checkRootKeyPins(hub, { [hub.gun]: [OTHER_KEY] }))).toMatchObject({
      code: 'ERR_ROOT_PIN_MISMATCH',
      role: 'root',
      check: 'root public key pin',
      keyIds: hub.root.signedBy,
      message: `no root key that signed the root of ${hub.gun} has a pinned public key`,
    });
  });

  it('the longest matching entry decides, the exact GUN before any prefix; a prefix covers only its own GUNs', () => {
    expect(caught(() => checkRootKeyPins(hub, { 'docker.io/*': [HUB_KEY], 'docker.io/acme/*': [OTHER_KEY] }))).toMatchObject({ code: 'ERR_ROOT_PIN_MISMATCH' });
    expect(caught(() => checkRootKeyPins(hub, { 'docker.io/*': [OTHER_KEY], 'docker.io/acme/*': [HUB_KEY] }))).toBeUndefined();
    expect(caught(() => checkRootKeyPins(hub, { [hub.gun]: [HUB_KEY], 'docker.io/acme/*': [OTHER_KEY] }))).toBeUndefined();
    expect(caught(() => checkRootKeyPins(hub, { [hub.gun]: [OTHER_KEY], 'docker.io/acme/*': [HUB_KEY] }))).toMatchObject({ code: 'ERR_ROOT_PIN_MISMATCH' });
    // No entry for this GUN: nothing to check.
    expect(caught(() => checkRootKeyPins(hub, { 'docker.io/other/*': [OTHER_KEY], 'docker.io/acme/hu': [OTHER_KEY] }))).toBeUndefined();
  });

  it('a pinned key the root lists but that did not sign does not count', () => {
    const foreign = other.root.keys[other.root.signedBy[0] as string] as TufKeyJson;
    const listed: VerifiedRepository = { ...hub, root: { ...hub.root, keys: { ...hub.root.keys, ['f'.repeat(64)]: foreign } } };
    expect(caught(() => checkRootKeyPins(listed, { [hub.gun]: [OTHER_KEY] }))).toMatchObject({ code: 'ERR_ROOT_PIN_MISMATCH' });
    // A signer ID without a key entry is passed over, not a crash.
    const ghost: VerifiedRepository = { ...hub, root: { ...hub.root, signedBy: ['0'.repeat(64), ...hub.root.signedBy] } };
    expect(caught(() => checkRootKeyPins(ghost, { [hub.gun]: [HUB_KEY] }))).toBeUndefined();
    expect(caught(() => checkRootKeyPins(ghost, { [hub.gun]: [OTHER_KEY] }))).toMatchObject({ code: 'ERR_ROOT_PIN_MISMATCH' });
  });

  it('a signer whose key is not a certificate is passed over, not a crash', () => {
    const spki = new X509Certificate(Buffer.from((hub.root.keys[hub.root.signedBy[0] as string] as TufKeyJson).keyval.public, 'base64')).publicKey.export({ type: 'spki', format: 'der' });
    const plainId = '1'.repeat(64);
    const plain: VerifiedRepository = {
      ...hub,
      root: { ...hub.root, keys: { ...hub.root.keys, [plainId]: { keytype: 'ecdsa', keyval: { public: Buffer.from(spki).toString('base64'), private: null } } as TufKeyJson }, signedBy: [plainId, ...hub.root.signedBy] },
    };
    expect(caught(() => checkRootKeyPins(plain, { [hub.gun]: [HUB_KEY] }))).toBeUndefined();
    expect(caught(() => checkRootKeyPins(plain, { [hub.gun]: [OTHER_KEY] }))).toMatchObject({ code: 'ERR_ROOT_PIN_MISMATCH' });
  });

  it('a pin that is not a PEM public key is ERR_INVALID_ARGUMENT', () => {
    const cert = `-----BEGIN CERTIFICATE-----\n${Buffer.from('x').toString('base64')}\n-----END CERTIFICATE-----\n`;
    for (const bad of ['not pem', cert]) expect(caught(() => checkRootKeyPins(hub, { [hub.gun]: [bad] }))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: 'a pinned root public key is not a PEM "PUBLIC KEY" block' });
  });
});
