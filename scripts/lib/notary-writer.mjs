// Writes Notary-format metadata from a plain model, with fixed keys and deterministic
// signatures (RFC 6979 ECDSA, Ed25519, RSA PKCS#1 v1.5), for the generated vectors and the
// benchmark repositories. Test and benchmark tooling only; not part of the package.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { p256 } from '@noble/curves/nist.js';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { canonicalBytes, tufKeyId } from '../../dist/index.js';

ed.hashes.sha512 = sha512;
export const KEYS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'vectors', 'generated', 'keys');

export const GUN = 'example.com/trustgate/repo';
export const NOW = '2030-01-01T00:00:00Z';
export const FAR = '2035-01-01T00:00:00Z';

// ---------- bytes and encodings ----------
export const sha = (alg, b) => createHash(alg).update(b).digest();
export const b64 = (b) => Buffer.from(b).toString('base64');
export const canonical = (v) => Buffer.from(canonicalBytes(v)).toString('utf8');

/** Notary's file form: canonical `signed`, HTML-escaped as Go's compact(escape=true) writes it. */
export function escapeForFile(text) {
  return text.replace(/[<>&\u2028\u2029\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
export function fileBytes(signedText, signatures) {
  return Buffer.from(`{"signed":${signedText},"signatures":${JSON.stringify(signatures)}}`, 'utf8');
}

// ---------- DER, enough to build X.509 certificates ----------
export function derLen(n) {
  if (n < 0x80) return Buffer.from([n]);
  const bytes = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n >>= 8;
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
export const tlv = (tag, ...parts) => {
  const body = Buffer.concat(parts.map((p) => Buffer.from(p)));
  return Buffer.concat([Buffer.from([tag]), derLen(body.length), body]);
};
export const seq = (...p) => tlv(0x30, ...p);
export const set = (...p) => tlv(0x31, ...p);
export function oid(s) {
  const [a, b, ...rest] = s.split('.').map(Number);
  const out = [a * 40 + b];
  for (const v of rest) {
    const chunk = [v & 0x7f];
    let x = v >> 7;
    while (x > 0) {
      chunk.unshift((x & 0x7f) | 0x80);
      x >>= 7;
    }
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
export const int = (buf) => tlv(0x02, buf[0] & 0x80 ? Buffer.concat([Buffer.from([0]), buf]) : buf);
export const utf8str = (s) => tlv(0x0c, Buffer.from(s, 'utf8'));
export const bool = (v) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
export const octet = (b) => tlv(0x04, b);
export const bitString = (b) => tlv(0x03, Buffer.from([0]), b);
export function time(iso) {
  const d = new Date(iso);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  const y = d.getUTCFullYear();
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return y >= 1950 && y < 2050 ? tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`)) : tlv(0x18, Buffer.from(`${p(y, 4)}${rest}`));
}
export const name = (cn) => seq(set(seq(oid('2.5.4.3'), utf8str(cn))));
export const SIG_ALGS = {
  'ecdsa-sha256': seq(oid('1.2.840.10045.4.3.2')),
  'ecdsa-sha1': seq(oid('1.2.840.10045.4.1')),
  'rsa-sha256': seq(oid('1.2.840.113549.1.1.11'), tlv(0x05)),
};

/**
 * A certificate for `subjectKey`, signed by `issuerKey` (self-signed by default). Root certs as
 * `notary init` makes them: KeyUsage digitalSignature+keyEncipherment, EKU codeSigning, CA:FALSE.
 */
export function makeCert({ cn, subjectKey, issuerKey = subjectKey, issuerCn = cn, notBefore = '2020-01-01T00:00:00Z', notAfter = '2040-01-01T00:00:00Z', ca = false, alg, serial = 1, eku = '1.3.6.1.5.5.7.3.3', keyUsage = true, pathLen, extensions = [] }) {
  const algName = alg ?? (issuerKey.kind === 'rsa' ? 'rsa-sha256' : 'ecdsa-sha256');
  const basic = ca ? seq(bool(true), ...(pathLen === undefined ? [] : [int(Buffer.from([pathLen]))])) : seq();
  const exts = [seq(oid('2.5.29.19'), bool(true), octet(basic))];
  if (keyUsage) exts.unshift(seq(oid('2.5.29.15'), bool(true), octet(bitString(Buffer.from(ca ? [0x06] : [0xa0])))));
  if (!ca && eku) exts.push(seq(oid('2.5.29.37'), octet(seq(oid(eku)))));
  exts.push(...extensions);
  const tbs = seq(
    tlv(0xa0, int(Buffer.from([2]))),
    int(Buffer.from([serial])),
    SIG_ALGS[algName],
    name(issuerCn),
    seq(time(notBefore), time(notAfter)),
    name(cn),
    subjectKey.spki,
    tlv(0xa3, seq(...exts)),
  );
  let sig;
  if (algName === 'rsa-sha256') sig = nodeSign('sha256', tbs, issuerKey.privateKey);
  else {
    const digestAlg = algName === 'ecdsa-sha1' ? 'sha1' : 'sha256';
    sig = Buffer.from(p256.sign(sha(digestAlg, tbs), issuerKey.priv, { prehash: false, format: 'der' }));
  }
  return seq(tbs, SIG_ALGS[algName], bitString(sig));
}
export const reorder = (v) =>
  Array.isArray(v) ? v.map(reorder) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).reverse().map((k) => [k, reorder(v[k])])) : v;
export const pem = (der, eol = '\n') => {
  const body = b64(der).match(/.{1,64}/g).join(eol);
  return `-----BEGIN CERTIFICATE-----${eol}${body}${eol}-----END CERTIFICATE-----${eol}`;
};

// ---------- fixed keys ----------
export const N_P256 = p256.Point.CURVE().n;
export function ecKey(label) {
  const d = (BigInt(`0x${sha('sha256', `trustgate vector key ${label}`).toString('hex')}`) % (N_P256 - 1n)) + 1n;
  const priv = Buffer.from(d.toString(16).padStart(64, '0'), 'hex');
  const point = Buffer.from(p256.getPublicKey(priv, false));
  const spki = Buffer.concat([Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), point]);
  return { kind: 'ec', label, priv, spki, json: { keytype: 'ecdsa', keyval: { private: null, public: b64(spki) } } };
}
export function edKey(label) {
  const seed = sha('sha256', `trustgate vector key ${label}`);
  const pub = Buffer.from(ed.getPublicKey(seed));
  return { kind: 'ed', label, seed, json: { keytype: 'ed25519', keyval: { private: null, public: b64(pub) } } };
}
export function rsaKey(bits) {
  const dir = KEYS_DIR;
  const file = join(dir, `rsa-${bits}.pem`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  }
  const privateKey = createPrivateKey(readFileSync(file));
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return { kind: 'rsa', label: `rsa-${bits}`, privateKey, spki, json: { keytype: 'rsa', keyval: { private: null, public: b64(spki) } } };
}
/** Wraps a key in a certificate: an `ecdsa-x509` / `rsa-x509` key object. */
export function x509Key(key, certOpts = {}, eol = '\n') {
  const der = makeCert({ cn: GUN, subjectKey: key, ...certOpts });
  const text = (certOpts.extraPem ?? '') + pem(der, eol);
  return { ...key, certDer: der, json: { keytype: key.kind === 'rsa' ? 'rsa-x509' : 'ecdsa-x509', keyval: { private: null, public: b64(Buffer.from(text)) } } };
}
export const keyId = (k) => tufKeyId(k.json.keytype, k.json.keyval.public);

export function signWith(key, msg, { method, highS = false, der = false } = {}) {
  if (key.kind === 'ec') {
    const sig = p256.sign(msg, key.priv, { prehash: true, lowS: true });
    let compact = Buffer.from(sig);
    if (highS) {
      const r = compact.subarray(0, 32);
      const s = BigInt(`0x${compact.subarray(32).toString('hex')}`);
      compact = Buffer.concat([r, Buffer.from((N_P256 - s).toString(16).padStart(64, '0'), 'hex')]);
    }
    if (der) compact = Buffer.from(p256.Signature.fromBytes(compact, 'compact').toBytes('der'));
    return { method: method ?? 'ecdsa', sig: b64(compact) };
  }
  if (key.kind === 'ed') return { method: method ?? 'eddsa', sig: b64(ed.sign(msg, key.seed)) };
  return { method: method ?? 'rsapkcs1v15', sig: b64(nodeSign('sha256', msg, key.privateKey)) };
}

// ---------- the base repository model ----------
export const K = {
  root: x509Key(ecKey('root')),
  targets: ecKey('targets'),
  snapshot: ecKey('snapshot'),
  timestamp: edKey('timestamp'),
  releases: ecKey('releases'),
  a: ecKey('delegation-a'),
  ab: ecKey('delegation-a-b'),
  c: ecKey('delegation-c'),
  other: ecKey('someone-else'),
};
export const fileMeta = (content) => ({ hashes: { sha256: b64(sha('sha256', content)) }, length: Buffer.byteLength(content) });
export const digestOf = (content) => `sha256:${sha('sha256', content).toString('hex')}`;

export function baseModel() {
  const role = (key, extra = {}) => ({ keyids: [keyId(key)], threshold: 1, ...extra });
  return {
    gun: GUN,
    root: {
      signed: {
        _type: 'Root',
        consistent_snapshot: false,
        expires: FAR,
        keys: Object.fromEntries([K.root, K.targets, K.snapshot, K.timestamp].map((k) => [keyId(k), k.json])),
        roles: { root: role(K.root), snapshot: role(K.snapshot), targets: role(K.targets), timestamp: role(K.timestamp) },
        version: 1,
      },
      signers: [K.root],
    },
    targets: {
      signed: {
        _type: 'Targets',
        delegations: {
          keys: Object.fromEntries([K.releases, K.a, K.c].map((k) => [keyId(k), k.json])),
          roles: [
            { keyids: [keyId(K.releases)], name: 'targets/releases', paths: [''], threshold: 1 },
            { keyids: [keyId(K.a)], name: 'targets/a', paths: ['foo', 'deep'], threshold: 1 },
            { keyids: [keyId(K.c)], name: 'targets/c', paths: [''], threshold: 1 },
          ],
        },
        expires: FAR,
        targets: { latest: fileMeta('latest in targets'), v1: fileMeta('v1 in targets') },
        version: 2,
      },
      signers: [K.targets],
    },
    'targets/releases': {
      signed: { _type: 'Targets', delegations: { keys: {}, roles: [] }, expires: FAR, targets: { latest: fileMeta('latest in releases'), v2: fileMeta('v2 in releases') }, version: 1 },
      signers: [K.releases],
    },
    'targets/a': {
      signed: {
        _type: 'Targets',
        delegations: { keys: { [keyId(K.ab)]: K.ab.json }, roles: [{ keyids: [keyId(K.ab)], name: 'targets/a/b', paths: ['foobar', 'bar', '', 'deep'], threshold: 1 }] },
        expires: FAR,
        targets: { foo1: fileMeta('foo1 in a'), x1: fileMeta('x1 in a') },
        version: 1,
      },
      signers: [K.a],
    },
    'targets/a/b': {
      signed: { _type: 'Targets', delegations: { keys: {}, roles: [] }, expires: FAR, targets: { foobar1: fileMeta('foobar1 in a/b'), bar1: fileMeta('bar1 in a/b'), foo2: fileMeta('foo2 in a/b'), deep: fileMeta('deep in a/b') }, version: 1 },
      signers: [K.ab],
    },
    'targets/c': {
      signed: { _type: 'Targets', delegations: { keys: {}, roles: [] }, expires: FAR, targets: { deep: fileMeta('deep in c') }, version: 1 },
      signers: [K.c],
    },
    snapshot: { signed: { _type: 'Snapshot', expires: FAR, meta: {}, version: 3 }, signers: [K.snapshot] },
    timestamp: { signed: { _type: 'Timestamp', expires: FAR, meta: {}, version: 4 }, signers: [K.timestamp] },
  };
}

export const ORDER_TARGETS = (m) => Object.keys(m).filter((r) => r === 'targets' || r.startsWith('targets/'));

/**
 * Serialises a model into files. Hooks let a case break exactly one thing:
 * - `edit(model)` before anything is signed;
 * - `signatures(role, sigs, msg)` to replace a role's signature list;
 * - `signedText(role, text)` to change the stored form of `signed` after signing;
 * - `bytes(role, buf)` after serialisation, before hashes are taken;
 * - `snapshotMeta(meta, files)` / `timestampMeta(meta, files)` to edit the hash entries.
 */
export function build(hooks = {}, model = undefined) {
  const m = model ?? baseModel();
  hooks.edit?.(m);
  const files = {};
  const write = (role) => {
    const entry = m[role];
    const msg = canonicalBytes(entry.signed);
    let sigs = entry.signers.map((k) => ({ keyid: keyId(k), ...signWith(k, msg, entry.signOpts ?? {}) }));
    if (hooks.signatures) sigs = hooks.signatures(role, sigs, msg) ?? sigs;
    let text = escapeForFile(canonical(entry.signed));
    if (hooks.signedText) text = hooks.signedText(role, text) ?? text;
    let buf = entry.rawFile ?? fileBytes(text, sigs);
    if (hooks.bytes) buf = hooks.bytes(role, buf) ?? buf;
    files[role] = buf;
  };
  write('root');
  for (const r of ORDER_TARGETS(m)) write(r);
  const meta = {};
  for (const r of ['root', ...ORDER_TARGETS(m)]) {
    meta[r] = { hashes: { sha256: b64(sha('sha256', files[r])), sha512: b64(sha('sha512', files[r])) }, length: files[r].length };
  }
  m.snapshot.signed.meta = hooks.snapshotMeta?.(meta, files, m) ?? meta;
  write('snapshot');
  const tmeta = { snapshot: { hashes: { sha256: b64(sha('sha256', files.snapshot)), sha512: b64(sha('sha512', files.snapshot)) }, length: files.snapshot.length } };
  m.timestamp.signed.meta = hooks.timestampMeta?.(tmeta, files, m) ?? tmeta;
  write('timestamp');
  for (const r of hooks.omit ?? []) delete files[r];
  hooks.after?.(files);
  return files;
}

