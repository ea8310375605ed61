// The floor: the work no verifier of this repository can skip, done as directly as Node allows.
//   - JSON.parse of every file;
//   - SHA-256 and SHA-512 of the raw bytes of every file a snapshot or timestamp entry covers
//     (root, snapshot, targets and each delegation — all but timestamp);
//   - one node:crypto KeyObject per distinct signing key (the root's from its certificate);
//   - one native signature verification per role, over the file's stored `signed` bytes.
// Also the same signature checks through noble, for scale.
import { X509Certificate, createHash, createPublicKey, verify } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';

ed.hashes.sha512 = sha512;

export const ROLE_ORDER = ['root', 'timestamp', 'snapshot', 'targets', 'targets/releases', 'targets/a', 'targets/a/b', 'targets/c'];
const PARENT = { 'targets/releases': 'targets', 'targets/a': 'targets', 'targets/a/b': 'targets/a', 'targets/c': 'targets' };
const SIGNATURES = Buffer.from(',"signatures":');

/** The `signed` member as stored: the file is `{"signed":…,"signatures":[…]}`. */
export const signedSpan = (buf) => buf.subarray(10, buf.lastIndexOf(SIGNATURES));

function keyObject(k) {
  const raw = Buffer.from(k.keyval.public, 'base64');
  switch (k.keytype) {
    case 'ecdsa-x509':
      return new X509Certificate(raw).publicKey;
    case 'ecdsa':
      return createPublicKey({ key: raw, format: 'der', type: 'spki' });
    case 'ed25519':
      return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
    default:
      throw new Error(`floor: key type ${k.keytype} not covered`);
  }
}

/** Keys that sign `role`, from its parent's parsed document. */
function keysFor(role, parsed) {
  if (PARENT[role] === undefined) return parsed.root.signed.keys;
  return parsed[PARENT[role]].signed.delegations.keys;
}

/**
 * One floor run. Returns the phase times (ms) so the caller can report them; the caller times
 * the whole call. Throws if a signature does not verify.
 */
export function floor(files) {
  const t0 = performance.now();
  const parsed = {};
  for (const role of ROLE_ORDER) parsed[role] = JSON.parse(files[role].toString('utf8'));
  const t1 = performance.now();
  for (const role of ROLE_ORDER) {
    if (role === 'timestamp') continue;
    createHash('sha256').update(files[role]).digest();
    createHash('sha512').update(files[role]).digest();
  }
  const t2 = performance.now();
  const keyObjects = new Map();
  for (const role of ROLE_ORDER) {
    const keys = keysFor(role, parsed);
    for (const s of parsed[role].signatures) {
      let key = keyObjects.get(s.keyid);
      if (key === undefined) {
        key = { keytype: keys[s.keyid].keytype, obj: keyObject(keys[s.keyid]) };
        keyObjects.set(s.keyid, key);
      }
      const sig = Buffer.from(s.sig, 'base64');
      const msg = signedSpan(files[role]);
      const ok = key.keytype === 'ed25519' ? verify(null, msg, key.obj, sig) : verify('sha256', msg, { key: key.obj, dsaEncoding: 'ieee-p1363' }, sig);
      if (!ok) throw new Error(`floor: signature of ${role} does not verify`);
    }
  }
  const t3 = performance.now();
  return { parse: t1 - t0, hash: t2 - t1, signatures: t3 - t2 };
}

/** Signature work only, native: inputs prepared outside, KeyObjects created inside (once per key). */
export function prepareSignatures(files) {
  const parsed = {};
  for (const role of ROLE_ORDER) parsed[role] = JSON.parse(files[role].toString('utf8'));
  const jobs = [];
  for (const role of ROLE_ORDER) {
    const keys = keysFor(role, parsed);
    for (const s of parsed[role].signatures) {
      const k = keys[s.keyid];
      const spki = keyObject(k).export({ type: 'spki', format: 'der' });
      // Raw public key for noble: the last 65 (P-256 uncompressed) or 32 (Ed25519) SPKI bytes.
      const raw = k.keytype === 'ed25519' ? spki.subarray(-32) : spki.subarray(-65);
      jobs.push({ role, keyid: s.keyid, key: k, raw: new Uint8Array(raw), sig: new Uint8Array(Buffer.from(s.sig, 'base64')), msg: new Uint8Array(signedSpan(files[role])) });
    }
  }
  return jobs;
}

export function nativeSignatures(jobs) {
  const cache = new Map();
  for (const j of jobs) {
    let obj = cache.get(j.keyid);
    if (obj === undefined) cache.set(j.keyid, (obj = keyObject(j.key)));
    const sig = Buffer.from(j.sig.buffer, j.sig.byteOffset, j.sig.length);
    const ok = j.key.keytype === 'ed25519' ? verify(null, j.msg, obj, sig) : verify('sha256', j.msg, { key: obj, dsaEncoding: 'ieee-p1363' }, sig);
    if (!ok) throw new Error(`native: ${j.role} does not verify`);
  }
}

/** The same checks through noble: P-256 (SHA-256 prehash, high S accepted) and Ed25519. */
export function nobleSignatures(jobs) {
  for (const j of jobs) {
    const ok = j.key.keytype === 'ed25519' ? ed.verify(j.sig, j.msg, j.raw) : p256.verify(j.sig, j.msg, j.raw, { lowS: false });
    if (!ok) throw new Error(`noble: ${j.role} does not verify`);
  }
}
