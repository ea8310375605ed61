/**
 * Differential check: every signature in every vector file is verified by our node:crypto
 * verifiers and by the independent noble implementations; both must agree. Key IDs are
 * recomputed from content and hashes are cross-checked with @noble/hashes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import * as ed from '@noble/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { canonicalBytes } from '../../src/json/canonical.js';
import { parseStrictJson, type JsonObject } from '../../src/json/strict-parse.js';
import { decodePublicKey, verifySignature } from '../../src/crypto/signature.js';
import { digest } from '../../src/crypto/hash.js';
import { tufKeyId } from '../../src/tuf/keys.js';
import { VECTORS } from '../helpers/vectors.js';

ed.hashes.sha512 = sha512;

interface KeyJson {
  keytype: string;
  keyval: { public: string };
}

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...jsonFiles(p));
    else if (e.endsWith('.json') && !/expected|facts|summary|results|commands|changelist/.test(p)) out.push(p);
  }
  return out;
}

const files = [...jsonFiles(join(VECTORS, 'notary-0.7.0')), ...jsonFiles(join(VECTORS, 'upstream'))]
  .map((p) => {
    try {
      const doc = parseStrictJson(new Uint8Array(readFileSync(p)), p) as JsonObject;
      return doc['signed'] && Array.isArray(doc['signatures']) ? { path: p, doc } : undefined;
    } catch {
      return undefined; // pretty-printed or tampered beyond parsing
    }
  })
  .filter((x): x is { path: string; doc: JsonObject } => x !== undefined);

const keys = new Map<string, KeyJson>();
for (const { doc } of files) {
  const signed = doc['signed'] as Record<string, unknown>;
  const maps = [signed['keys'], (signed['delegations'] as Record<string, unknown> | undefined)?.['keys']];
  for (const m of maps) if (m && typeof m === 'object') for (const [id, k] of Object.entries(m)) keys.set(id, k as KeyJson);
}

/** Independent verification with noble (P-256 / Ed25519); undefined where noble has no algorithm (RSA). */
function nobleVerify(method: string, key: KeyJson, msg: Uint8Array, sig: Uint8Array): boolean | undefined {
  const native = decodePublicKey(key.keytype, new Uint8Array(Buffer.from(key.keyval.public, 'base64')));
  if (!native) return false;
  if (method === 'ecdsa' && native.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    const jwk = native.export({ format: 'jwk' });
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')]);
    // Notary accepts high-S signatures (Go does not require low S): lowS must be off.
    return sig.length === 64 && p256.verify(sig, msg, point, { lowS: false, prehash: true });
  }
  if (method === 'eddsa' && key.keytype === 'ed25519') {
    return sig.length === 64 && ed.verify(sig, msg, Buffer.from(key.keyval.public, 'base64'), { zip215: false });
  }
  return undefined;
}

describe('signatures: node:crypto and noble agree on every vector', () => {
  let checked = 0;
  let crossChecked = 0;
  for (const { path, doc } of files) {
    const name = relative(VECTORS, path);
    it(name, () => {
      const msg = canonicalBytes(doc['signed'] as JsonObject);
      for (const s of doc['signatures'] as { keyid: string; method: string; sig: string }[]) {
        const key = keys.get(s.keyid);
        if (!key) continue;
        const native = decodePublicKey(key.keytype, new Uint8Array(Buffer.from(key.keyval.public, 'base64')));
        const sig = new Uint8Array(Buffer.from(s.sig, 'base64'));
        const ours = native ? verifySignature(s.method.toLowerCase(), key.keytype, native, msg, sig) : false;
        const theirs = nobleVerify(s.method.toLowerCase(), key, msg, sig);
        if (theirs !== undefined) {
          expect(ours, `${name} ${s.keyid}`).toBe(theirs);
          crossChecked++;
        }
        checked++;
        if (!name.includes('tamper') && !name.includes('connaisseur')) expect(ours, `${name} ${s.keyid} ${s.method}`).toBe(true);
      }
    });
  }
  it('checked a meaningful number of signatures', () => {
    expect(checked).toBeGreaterThan(150);
    expect(crossChecked).toBeGreaterThan(120);
  });
});

describe('key IDs and hashes', () => {
  it('every key ID in every vector is sha256 of its canonical key object with "private":null', () => {
    let n = 0;
    for (const [id, k] of keys) {
      expect(tufKeyId(k.keytype, k.keyval.public), id).toBe(id);
      n++;
    }
    expect(n).toBeGreaterThan(40);
  });

  it("spec §3.3 example: {keytype: ecdsa, public: 'YWJj'} → 8d7f5b0a…", () => {
    expect(tufKeyId('ecdsa', 'YWJj')).toBe('8d7f5b0a740a871ac6c51d3df254ae832095459aa06342ff75d64e88e172d86f');
  });

  it('node:crypto and @noble/hashes agree on the sha256/sha512 of every vector file', () => {
    for (const { path } of files) {
      const b = new Uint8Array(readFileSync(path));
      expect(Buffer.from(digest('sha256', b)).equals(Buffer.from(sha256(b)))).toBe(true);
      expect(Buffer.from(digest('sha512', b)).equals(Buffer.from(sha512(b)))).toBe(true);
    }
  });
});

describe('verifySignature on hostile method names', () => {
  it('returns false (never throws) for methods that name Object.prototype members (found by fuzzing)', async () => {
    const { verifySignature: verify, decodePublicKey: decode } = await import('../../src/crypto/signature.js');
    const key = decode('ed25519', new Uint8Array(32).fill(1));
    for (const m of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(verify(m, 'ed25519', key as never, new Uint8Array(1), new Uint8Array(64)), m).toBe(false);
    }
  });
});
