/**
 * verifyThreshold on its own, with real P-256 and Ed25519 keys (notary-rules.md §4.3, §4.4, §14.3):
 * which signatures count, and what a refusal reports — callers read the code, role and counts.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isTrustError, type TrustError } from '../../src/errors.js';
import { KeyCache, tufKeyId } from '../../src/tuf/keys.js';
import type { Envelope, TufKeyJson } from '../../src/tuf/schema.js';
import { verifyThreshold, type RoleKeys } from '../../src/tuf/threshold.js';

interface TestKey {
  id: string;
  json: TufKeyJson;
  priv: KeyObject;
  method: string;
}

function ecKey(): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pub = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return { id: tufKeyId('ecdsa', pub), json: { keytype: 'ecdsa', keyval: { private: null, public: pub } }, priv: privateKey, method: 'ecdsa' };
}

function edKey(): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url').toString('base64');
  return { id: tufKeyId('ed25519', raw), json: { keytype: 'ed25519', keyval: { private: null, public: raw } }, priv: privateKey, method: 'eddsa' };
}

const message = new Uint8Array(Buffer.from('{"_type":"Targets","version":1}'));

function sigBy(k: TestKey, keyid = k.id, msg = message) {
  const sig = k.method === 'ecdsa' ? sign('sha256', msg, { key: k.priv, dsaEncoding: 'ieee-p1363' }) : sign(null, msg, k.priv);
  return { keyid, method: k.method, sig: sig.toString('base64') };
}

const env = (signatures: Envelope['signatures']): Envelope => ({ signed: {}, signatures });
const keysOf = (...ks: TestKey[]) => Object.fromEntries(ks.map((k) => [k.id, k.json])) as Record<string, TufKeyJson>;
const roleKeys = (listed: TestKey[], all: TestKey[], threshold: number, role = 'snapshot'): RoleKeys => ({
  role,
  keyIds: listed.map((k) => k.id),
  keys: keysOf(...all),
  threshold,
});

function refusal(f: () => unknown): TrustError {
  try {
    f();
  } catch (e) {
    if (isTrustError(e)) return e;
    throw e;
  }
  throw new Error('expected a TrustError');
}

const [a, b, c] = [ecKey(), ecKey(), edKey()];

describe('verifyThreshold', () => {
  it('counts listed keys with valid signatures and returns their IDs in signature order', () => {
    expect(verifyThreshold(env([sigBy(c), sigBy(a)]), message, roleKeys([a, c], [a, c], 2), new KeyCache())).toEqual([c.id, a.id]);
    expect(verifyThreshold(env([sigBy(a)]), message, roleKeys([a, b], [a, b], 1), new KeyCache())).toEqual([a.id]);
  });

  it('a threshold of 2 with one valid signature is refused with the counts', () => {
    const e = refusal(() => verifyThreshold(env([sigBy(a)]), message, roleKeys([a, b], [a, b], 2), new KeyCache()));
    expect(e).toMatchObject({ code: 'ERR_THRESHOLD_NOT_MET', role: 'snapshot', check: 'signature threshold', expected: 2, actual: 1, keyIds: [a.id, b.id] });
    expect(e.message).toBe('snapshot: 1 valid signature from distinct keys, threshold is 2');
    const none = refusal(() => verifyThreshold(env([sigBy(b, a.id)]), message, roleKeys([a], [a], 1), new KeyCache()));
    expect(none.message).toBe('snapshot: 0 valid signatures from distinct keys, threshold is 1');
  });

  it('a key that is in the key map but not listed for the role does not count', () => {
    // b is known (as root.json's keys would hold the targets key) but the role lists only a.
    const e = refusal(() => verifyThreshold(env([sigBy(b)]), message, roleKeys([a], [a, b], 1), new KeyCache()));
    expect(e).toMatchObject({ code: 'ERR_THRESHOLD_NOT_MET', actual: 0, keyIds: [a.id] });
  });

  it('a key that is listed but missing from the key map does not count', () => {
    const e = refusal(() => verifyThreshold(env([sigBy(b)]), message, roleKeys([a, b], [a], 1), new KeyCache()));
    expect(e).toMatchObject({ code: 'ERR_THRESHOLD_NOT_MET', actual: 0 });
  });

  it('a signature over other bytes does not count; the same key twice counts once', () => {
    const other = new Uint8Array(Buffer.from('{}'));
    expect(refusal(() => verifyThreshold(env([sigBy(a, a.id, other)]), message, roleKeys([a], [a], 1), new KeyCache())).code).toBe('ERR_THRESHOLD_NOT_MET');
    const twice = refusal(() => verifyThreshold(env([sigBy(a), sigBy(a)]), message, roleKeys([a, a], [a], 2), new KeyCache()));
    expect(twice).toMatchObject({ code: 'ERR_THRESHOLD_NOT_MET', actual: 1, keyIds: [a.id] });
    // A second signature by a key already counted adds nothing to the IDs returned.
    expect(verifyThreshold(env([sigBy(a), sigBy(a)]), message, roleKeys([a], [a], 1), new KeyCache())).toEqual([a.id]);
    // An invalid signature first does not stop a valid one by the same key from counting.
    const bad = { ...sigBy(a), sig: Buffer.alloc(64, 1).toString('base64') };
    expect(verifyThreshold(env([bad, sigBy(a)]), message, roleKeys([a], [a], 1), new KeyCache())).toEqual([a.id]);
  });

  it('threshold 0 is refused even with valid signatures, and no signatures at all has its own code', () => {
    const zero = refusal(() => verifyThreshold(env([sigBy(a)]), message, roleKeys([a], [a], 0, 'targets/x'), new KeyCache()));
    expect(zero).toMatchObject({ code: 'ERR_THRESHOLD_NOT_MET', role: 'targets/x', check: 'signature threshold', expected: 1, actual: 0 });
    expect(zero.message).toBe('targets/x has threshold 0; it must be at least 1');
    const negative = refusal(() => verifyThreshold(env([sigBy(a)]), message, roleKeys([a], [a], -1), new KeyCache()));
    expect(negative).toMatchObject({ code: 'ERR_THRESHOLD_NOT_MET', actual: -1 });
    const empty = refusal(() => verifyThreshold(env([]), message, roleKeys([a], [a], 1), new KeyCache()));
    expect(empty).toMatchObject({ code: 'ERR_NO_SIGNATURES', role: 'snapshot', check: 'signatures' });
    expect(empty.message).toBe('snapshot has no signatures');
  });

  it('a key listed under an ID its content does not hash to aborts the role', () => {
    const spoofed = 'f'.repeat(64);
    const e = refusal(() => verifyThreshold(env([sigBy(a, spoofed)]), message, { role: 'root', keyIds: [spoofed], keys: { [spoofed]: a.json }, threshold: 1 }, new KeyCache()));
    expect(e).toMatchObject({ code: 'ERR_INVALID_KEY_ID', role: 'root', check: 'key id', expected: spoofed, actual: a.id });
  });

  it('a key whose bytes are not a key of its type never counts', () => {
    const broken: TufKeyJson = { keytype: 'ecdsa', keyval: { private: null, public: Buffer.from('not a key').toString('base64') } };
    const id = tufKeyId('ecdsa', broken.keyval.public);
    const e = refusal(() => verifyThreshold(env([sigBy(a, id)]), message, { role: 'targets', keyIds: [id], keys: { [id]: broken }, threshold: 1 }, new KeyCache()));
    expect(e).toMatchObject({ code: 'ERR_THRESHOLD_NOT_MET', actual: 0 });
  });
});
