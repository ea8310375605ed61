#!/usr/bin/env node
// Generates vectors/generated/: one folder per case, each a Notary-format metadata directory
// plus case.json saying what a correct verifier must answer. Keys are fixed (derived from
// names, or the committed RSA PEMs) and every signature is deterministic, so regeneration
// reproduces the committed bytes:
//   npm run vectors:generate             write the cases
//   npm run vectors:generate -- --check  fail if the committed bytes differ from a fresh run
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GUN,
  K,
  NOW,
  b64,
  bool,
  build,
  canonical,
  digestOf,
  ecKey,
  edKey,
  fileMeta,
  keyId,
  makeCert,
  octet,
  oid,
  pem,
  reorder,
  rsaKey,
  seq,
  sha,
  signWith,
  tlv,
  x509Key,
} from './lib/notary-writer.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors', 'generated');
const CHECK = process.argv.includes('--check');

// ---------- the cases ----------
const ok = (lookups = {}, extra = {}) => ({ ok: true, lookups, ...extra });
const fail = (code, role) => ({ error: { code, role } });
/** Stores `change(text)` as `role`'s signed part and signs exactly those bytes with `key`. */
const delegateSigns = (role, key, change) => ({
  signedText: (r, text) => (r === role ? change(text) : undefined),
  signatures: (r, sigs, msg) => (r === role ? [{ keyid: keyId(key), ...signWith(key, Buffer.from(change(Buffer.from(msg).toString('utf8')), 'utf8')) }] : undefined),
});
const BASE_LOOKUPS = {
  docker: { latest: { role: 'targets/releases', digest: digestOf('latest in releases') }, v1: { role: 'targets', digest: digestOf('v1 in targets') }, foobar1: null },
  notary: {
    latest: { role: 'targets', digest: digestOf('latest in targets') },
    foobar1: { role: 'targets/a/b', digest: digestOf('foobar1 in a/b') },
    foo1: { role: 'targets/a', digest: digestOf('foo1 in a') },
    // Dropped, not intersected: a/b's "bar" and "" are outside a's ["foo","deep"] (spec §7.8.2).
    bar1: null,
    foo2: null,
    // Listed in targets/a but outside its own paths: never resolved (yet trust inspect lists it, §8.4).
    x1: null,
    // Breadth first: targets/c (a sibling of targets/a) is visited before targets/a/b (spec §8.1).
    deep: { role: 'targets/c', digest: digestOf('deep in c') },
  },
};

const ID_WITHOUT_PRIVATE = sha('sha256', canonical({ keytype: K.targets.json.keytype, keyval: { public: K.targets.json.keyval.public } })).toString('hex');
const setKeyIdOnly = (role, newId, key) => (m) => {
  // The role lists `key` under `newId` and signs with that ID.
  const r = m.root.signed.roles[role];
  delete m.root.signed.keys[r.keyids[0]];
  m.root.signed.keys[newId] = key.json;
  r.keyids = [newId];
};

const cases = {
  'base-valid': {
    description: 'the base repository: ecdsa-x509 root, ecdsa targets/snapshot, ed25519 timestamp, delegations releases, a ⊃ a/b, c',
    spec: '§7.10',
    expect: ok(BASE_LOOKUPS, {
      roles: ['targets', 'targets/releases', 'targets/a', 'targets/a/b', 'targets/c'],
      // GetAllTargetMetadataByName(""): every target of every role, roles breadth first, no path checks (§8.4); names sorted within a role.
      inspect: [
        'targets latest', 'targets v1', 'targets/releases latest', 'targets/releases v2', 'targets/a foo1', 'targets/a x1',
        'targets/c deep', 'targets/a/b bar1', 'targets/a/b deep', 'targets/a/b foo2', 'targets/a/b foobar1',
      ],
    }),
  },
  ...rotationCases(),
  ...rotationChainCases(),
  ...caPinCases(),
  ...boundaryCases(),
  // §13.1
  'html-escaped-signed': {
    description: 'target name with <, >, & and U+2028 stored HTML-escaped as Notary writes it; the signature covers the raw form',
    spec: '§2.1, §13.1',
    hooks: { edit: (m) => (m.targets.signed.targets['a<b>&c\u2028d'] = fileMeta('escaped')) },
    expect: ok({ notary: { 'a<b>&c\u2028d': { role: 'targets', digest: digestOf('escaped') } } }),
  },
  'stored-signed-not-canonical': {
    description: 'signed stored pretty-printed with keys in another order: still verifies (the parsed value is re-canonicalized)',
    spec: '§4.1, §13.1',
    hooks: { signedText: (role, text) => (role === 'targets' ? JSON.stringify(reorder(JSON.parse(text)), null, 2) : undefined) },
    expect: ok({ docker: { v1: { role: 'targets', digest: digestOf('v1 in targets') } } }),
  },
  // §13.2
  'code-point-key-order': {
    description: 'targets "ﬁ" (U+FB01) and "😀" (U+1F600) in one role: canonical order is by code point, not UTF-16 (JCS would differ)',
    spec: '§5.3, §13.2',
    hooks: { edit: (m) => Object.assign(m.targets.signed.targets, { '\ufb01': fileMeta('fi'), '\u{1f600}': fileMeta('grin') }) },
    expect: ok({ notary: { '\ufb01': { role: 'targets', digest: digestOf('fi') }, '\u{1f600}': { role: 'targets', digest: digestOf('grin') } } }),
  },
  'control-character-raw-in-canonical-form': {
    description: 'a target name with U+0001 and a tab: canonical JSON writes them raw (JCS would escape), the signature verifies',
    spec: '§5.1, §14.4',
    hooks: { edit: (m) => (m.targets.signed.targets['a\u0001b\tc'] = fileMeta('ctl')) },
    expect: ok({ notary: { 'a\u0001b\tc': { role: 'targets', digest: digestOf('ctl') } } }),
  },
  'float-in-signed': {
    description: 'a custom value 1.5 inside signed: Notary cannot canonicalize non-integers',
    spec: '§4.1, §5.1',
    hooks: { signedText: (role, text) => (role === 'targets' ? text.replace('"length":13', '"custom":{"a":1.5},"length":13') : undefined) },
    expect: fail('ERR_METADATA_MALFORMED', 'targets'),
  },
  'custom-integral-float': {
    description: 'custom written {"a":1.0,"b":1e2} in the file, signed over its canonical form {"a":1,"b":100}: Go reads both as integers, so Notary verifies it',
    spec: '§2.5, §4.1, §5.3',
    hooks: {
      edit: (m) => (m.targets.signed.targets.v1.custom = { a: 1, b: 100 }),
      signedText: (role, text) => (role === 'targets' ? text.replace('"custom":{"a":1,"b":100}', '"custom":{"a":1.0,"b":1e2}') : undefined),
    },
    expect: ok({ docker: { v1: { role: 'targets', digest: digestOf('v1 in targets') } } }),
  },
  // §13.3
  'hex-hashes-in-snapshot': {
    description: 'snapshot meta hash for targets written as hex: 64 hex digits are valid base64 of 48 bytes, the wrong length for sha256',
    spec: '§2.5, §2.6, §13.3',
    hooks: { snapshotMeta: (meta, files) => ({ ...meta, targets: { hashes: { sha256: sha('sha256', files.targets).toString('hex') }, length: files.targets.length } }) },
    expect: fail('ERR_METADATA_INVALID', 'snapshot'),
  },
  'hex-signature': {
    description: 'the targets signature written as hex: it decodes as base64 to 96 bytes, not a 64-byte r‖s, so it never counts',
    spec: '§2.1, §13.3',
    hooks: { signatures: (role, sigs) => (role === 'targets' ? sigs.map((s) => ({ ...s, sig: Buffer.from(s.sig, 'base64').toString('hex') })) : undefined) },
    expect: fail('ERR_THRESHOLD_NOT_MET', 'targets'),
  },
  // §13.4
  'key-id-without-private-null': {
    description: 'root lists the targets key under sha256 of {"keytype","keyval":{"public"}} (no "private":null) and targets is signed with that ID',
    spec: '§3.3, §13.4',
    hooks: {
      edit: (m) => setKeyIdOnly('targets', ID_WITHOUT_PRIVATE, K.targets)(m),
      signatures: (role, sigs) => (role === 'targets' ? sigs.map((s) => ({ ...s, keyid: ID_WITHOUT_PRIVATE })) : undefined),
    },
    expect: fail('ERR_INVALID_KEY_ID', 'targets'),
  },
  // §13.5
  'ecdsa-der-signature': {
    description: 'the targets ECDSA signature DER-encoded instead of raw r‖s',
    spec: '§4.2, §13.5',
    hooks: { edit: (m) => (m.targets.signOpts = { der: true }) },
    expect: fail('ERR_THRESHOLD_NOT_MET', 'targets'),
  },
  'ecdsa-high-s': {
    description: 'every ECDSA signature with S replaced by n − S (high S): Go accepts it, so must we',
    spec: '§4.2, §13.5',
    hooks: { edit: (m) => { for (const r of ['root', 'targets', 'snapshot', 'targets/releases', 'targets/a', 'targets/a/b', 'targets/c']) m[r].signOpts = { highS: true }; } },
    expect: ok(BASE_LOOKUPS),
  },
  'method-upper-case': {
    description: 'signature method "ECDSA": Notary lower-cases it when parsing',
    spec: '§2.1',
    hooks: { edit: (m) => (m.targets.signOpts = { method: 'ECDSA' }) },
    expect: ok({ docker: { v1: { role: 'targets', digest: digestOf('v1 in targets') } } }),
  },
  'method-key-type-mismatch': {
    description: 'a valid ECDSA signature labelled "eddsa": a method/key-type mismatch is ignored, so the threshold is not met',
    spec: '§4.2',
    hooks: { edit: (m) => (m.targets.signOpts = { method: 'eddsa' }) },
    expect: fail('ERR_THRESHOLD_NOT_MET', 'targets'),
  },
  // §13.6
  'threshold-same-key-listed-twice': {
    description: 'targets threshold 2 with the same key ID listed twice and two signatures by it',
    spec: '§4.4, §13.6',
    hooks: { edit: (m) => { const r = m.root.signed.roles.targets; r.keyids = [r.keyids[0], r.keyids[0]]; r.threshold = 2; m.targets.signers = [K.targets, K.targets]; } },
    expect: fail('ERR_THRESHOLD_NOT_MET', 'targets'),
  },
  'threshold-one-key-two-ids': {
    description: 'targets threshold 2 met by one public key listed as ecdsa and as ecdsa-x509 (Notary counts 2; we count distinct keys)',
    spec: '§14.3',
    hooks: {
      edit: (m) => {
        const wrapped = x509Key(K.targets);
        m.root.signed.keys[keyId(wrapped)] = wrapped.json;
        const r = m.root.signed.roles.targets;
        r.keyids = [keyId(K.targets), keyId(wrapped)];
        r.threshold = 2;
        m.targets.signers = [K.targets, wrapped];
      },
    },
    expect: fail('ERR_THRESHOLD_NOT_MET', 'targets'),
  },
  'threshold-two-distinct-keys': {
    description: 'targets threshold 2 met by two distinct keys, with an invalid and an unknown signature around them',
    spec: '§4.4',
    hooks: {
      edit: (m) => {
        m.root.signed.keys[keyId(K.other)] = K.other.json;
        const r = m.root.signed.roles.targets;
        r.keyids = [keyId(K.targets), keyId(K.other)];
        r.threshold = 2;
        m.targets.signers = [K.targets, K.other];
      },
      signatures: (role, sigs) => (role === 'targets' ? [{ keyid: sigs[0].keyid, method: 'ecdsa', sig: b64(Buffer.alloc(64, 1)) }, ...sigs, { keyid: 'ab'.repeat(32), method: 'ecdsa', sig: sigs[0].sig }] : undefined),
    },
    expect: ok({ docker: { v1: { role: 'targets', digest: digestOf('v1 in targets') } } }),
  },
  'empty-signatures': {
    description: 'targets.json with an empty signatures array',
    spec: '§4.4, §13.6',
    hooks: { signatures: (role) => (role === 'targets' ? [] : undefined) },
    expect: fail('ERR_NO_SIGNATURES', 'targets'),
  },
  'key-id-spoofed': {
    description: "root lists the snapshot key under the targets key's ID: the snapshot signature names a key whose content hashes elsewhere",
    spec: '§3.4, §13.6',
    hooks: {
      edit: (m) => {
        const fake = 'f'.repeat(64);
        m.root.signed.keys[fake] = K.other.json;
        m.root.signed.roles.snapshot.keyids = [fake];
      },
      signatures: (role, sigs) => (role === 'snapshot' ? sigs.map((s) => ({ ...s, keyid: 'f'.repeat(64) })) : undefined),
    },
    expect: fail('ERR_INVALID_KEY_ID', 'snapshot'),
  },
  'wrong-key-signs-targets': {
    description: 'targets signed by a key the root does not list for targets',
    spec: '§4.3',
    hooks: { edit: (m) => (m.targets.signers = [K.other]) },
    expect: fail('ERR_THRESHOLD_NOT_MET', 'targets'),
  },
  // §13.7
  'root-plain-ecdsa-key': {
    description: 'the root role key is a plain ecdsa key, not a certificate',
    spec: '§6, §13.7',
    hooks: { edit: (m) => { const k = ecKey('plain-root'); m.root.signed.keys[keyId(k)] = k.json; m.root.signed.roles.root.keyids = [keyId(k)]; m.root.signers = [k]; } },
    expect: fail('ERR_ROOT_CERT_INVALID', 'root'),
  },
  ...rootCertCases(),
  // §13.8
  'root-pem-crlf': {
    description: 'root certificate PEM with CRLF line ends: Notary rebuilds the key with \\n and the IDs no longer match',
    spec: '§6 key rebuild, §13.8',
    hooks: { edit: (m) => replaceRootKey(m, x509Key(K.root, {}, '\r\n')) },
    expect: fail('ERR_THRESHOLD_NOT_MET', 'root'),
  },
  // §13.10
  'root-not-in-snapshot': {
    description: "snapshot.meta.root does not hash the cached root.json",
    spec: '§7.5, §13.10',
    hooks: { snapshotMeta: (meta) => ({ ...meta, root: { hashes: { sha256: b64(sha('sha256', 'another root')) }, length: meta.root.length } }) },
    expect: fail('ERR_HASH_MISMATCH', 'root'),
  },
  // §13.11
  'length-is-a-cap-not-a-size': {
    description: 'snapshot lists targets with a length 100 bytes larger than the file: fine, it is a cap',
    spec: '§7.4, §13.11',
    hooks: { snapshotMeta: (meta) => ({ ...meta, targets: { ...meta.targets, length: meta.targets.length + 100 } }) },
    expect: ok({ docker: { v1: { role: 'targets', digest: digestOf('v1 in targets') } } }),
  },
  'length-exceeded': {
    description: 'snapshot lists targets with a length one byte short of the file',
    spec: '§7.4, §13.11',
    hooks: { snapshotMeta: (meta) => ({ ...meta, targets: { ...meta.targets, length: meta.targets.length - 1 } }) },
    expect: fail('ERR_METADATA_TOO_LARGE', 'targets'),
  },
  'length-zero-with-hashes': {
    description: 'length 0 with hashes present is a 0-byte cap',
    spec: '§14.5',
    hooks: { snapshotMeta: (meta) => ({ ...meta, targets: { ...meta.targets, length: 0 } }) },
    expect: fail('ERR_METADATA_TOO_LARGE', 'targets'),
  },
  'sha512-wrong-sha256-right': {
    description: 'snapshot entry for targets with a correct sha256 and a wrong sha512: every listed hash must match',
    spec: '§7.5, §13.11',
    hooks: { snapshotMeta: (meta) => ({ ...meta, targets: { ...meta.targets, hashes: { ...meta.targets.hashes, sha512: b64(sha('sha512', 'x')) } } }) },
    expect: fail('ERR_HASH_MISMATCH', 'targets'),
  },
  'no-supported-hash': {
    description: 'timestamp lists the snapshot with only an md5 hash (and the required sha256 missing)',
    spec: '§2.6, §7.5',
    hooks: { timestampMeta: (meta) => ({ snapshot: { hashes: { md5: b64(Buffer.alloc(16)) }, length: meta.snapshot.length } }) },
    expect: fail('ERR_METADATA_INVALID', 'timestamp'),
  },
  'delegation-no-supported-hash': {
    description: 'snapshot lists targets/releases with only an md5 hash',
    spec: '§7.5',
    hooks: { snapshotMeta: (meta) => ({ ...meta, 'targets/releases': { hashes: { md5: b64(Buffer.alloc(16)) }, length: meta['targets/releases'].length } }) },
    expect: fail('ERR_MISSING_HASHES', 'targets/releases'),
  },
  'delegation-sha512-only': {
    description: 'snapshot lists targets/releases with only its (correct) sha512: delegation entries need no sha256, one supported hash that matches is enough',
    spec: '§7.5, §2.5',
    hooks: { snapshotMeta: (meta) => ({ ...meta, 'targets/releases': { hashes: { sha512: meta['targets/releases'].hashes.sha512 }, length: meta['targets/releases'].length } }) },
    expect: ok({ docker: { latest: { role: 'targets/releases', digest: digestOf('latest in releases') } } }, { roles: ['targets', 'targets/releases', 'targets/a', 'targets/a/b', 'targets/c'] }),
  },
  'delegation-no-hashes-with-length': {
    description: 'snapshot lists targets/releases with no hashes but its real length: the checksum is known to exist (only no hashes and length 0 means "unknown", §7.4), so the role is loaded and has no supported hash',
    spec: '§7.4, §7.5',
    hooks: { snapshotMeta: (meta) => ({ ...meta, 'targets/releases': { hashes: {}, length: meta['targets/releases'].length } }) },
    expect: fail('ERR_MISSING_HASHES', 'targets/releases'),
  },
  // §13.12
  'delegation-glob-is-not-a-glob': {
    description: 'targets/releases has paths ["v*"]: "v*" is a literal prefix, so v2 is not allowed there',
    spec: '§7.8.2, §13.12',
    hooks: { edit: (m) => (m.targets.signed.delegations.roles[0].paths = ['v*']) },
    expect: ok({ docker: { v2: null, latest: { role: 'targets', digest: digestOf('latest in targets') } } }),
  },
  'delegation-path-hash-prefixes-only': {
    description: 'targets/releases has only path_hash_prefixes: Notary ignores them, the role can sign nothing',
    spec: '§2.4, §13.12',
    hooks: { edit: (m) => { const r = m.targets.signed.delegations.roles[0]; delete r.paths; r.path_hash_prefixes = ['']; } },
    expect: ok({ docker: { v2: null, latest: { role: 'targets', digest: digestOf('latest in targets') } } }),
  },
  'delegation-upper-case-name': {
    description: 'targets delegates to "targets/Upper"',
    spec: '§7.8.1, §13.12',
    hooks: { edit: (m) => m.targets.signed.delegations.roles.push({ keyids: [keyId(K.c)], name: 'targets/Upper', paths: [''], threshold: 1 }) },
    expect: fail('ERR_ROLE_INVALID', 'targets'),
  },
  'delegation-not-direct-child': {
    description: 'targets delegates to "targets/a/zz", a grandchild',
    spec: '§2.4, §13.12',
    hooks: { edit: (m) => m.targets.signed.delegations.roles.push({ keyids: [keyId(K.c)], name: 'targets/a/zz', paths: [''], threshold: 1 }) },
    expect: fail('ERR_ROLE_INVALID', 'targets'),
  },
  'delegation-dot-dot-name': {
    description: 'targets delegates to "targets/../root"',
    spec: '§7.8.1',
    hooks: { edit: (m) => m.targets.signed.delegations.roles.push({ keyids: [keyId(K.c)], name: 'targets/../root', paths: [''], threshold: 1 }) },
    expect: fail('ERR_ROLE_INVALID', 'targets'),
  },
  'delegation-dot-dot-name-in-snapshot': {
    description: 'targets delegates to "targets/../root" and the snapshot lists that name (with the root\'s hashes): still an invalid role name, never a file to read or ask for',
    spec: '§7.8.1',
    hooks: {
      edit: (m) => m.targets.signed.delegations.roles.push({ keyids: [keyId(K.c)], name: 'targets/../root', paths: [''], threshold: 1 }),
      snapshotMeta: (meta) => ({ ...meta, 'targets/../root': meta.root }),
    },
    expect: fail('ERR_ROLE_INVALID', 'targets'),
  },
  'delegations-roles-null': {
    description: 'targets.json with "delegations":{"keys":null,"roles":null}, as notary 0.7.0 writes after the last delegation is removed: no delegations',
    spec: '§2.4 (found by the live interop test)',
    hooks: {
      edit: (m) => {
        m.targets.signed.delegations = { keys: null, roles: null };
        for (const r of ['targets/releases', 'targets/a', 'targets/a/b', 'targets/c']) delete m[r];
      },
    },
    expect: ok({ docker: { latest: { role: 'targets', digest: digestOf('latest in targets') }, v2: null } }, { roles: ['targets'] }),
  },
  'delegation-missing-from-snapshot': {
    description: 'targets/releases is not listed in the snapshot: it is skipped silently (its file is never read)',
    spec: '§7.8.3, §13.12',
    hooks: { snapshotMeta: (meta) => { const { 'targets/releases': _drop, ...rest } = meta; return rest; } },
    expect: ok({ docker: { v2: null, latest: { role: 'targets', digest: digestOf('latest in targets') } } }, { roles: ['targets', 'targets/a', 'targets/a/b', 'targets/c'] }),
  },
  'delegation-file-missing': {
    description: 'targets/releases is listed in the snapshot but its file is not in the cache: fatal (Notary: client is offline)',
    spec: '§7.9',
    hooks: { omit: ['targets/releases'] },
    expect: fail('ERR_METADATA_NOT_FOUND', 'targets/releases'),
  },
  'targets-key-sha1-cert': {
    description: 'the top-level targets key is a certificate signed with ecdsa-with-SHA1: only root certificates (§6) and delegation certificates (§7.8.5) are judged, so Notary verifies it',
    spec: '§4.2, §7.8.5',
    hooks: {
      edit: (m) => {
        const k = x509Key(K.targets, { alg: 'ecdsa-sha1' });
        delete m.root.signed.keys[keyId(K.targets)];
        m.root.signed.keys[keyId(k)] = k.json;
        m.root.signed.roles.targets.keyids = [keyId(k)];
        m.targets.signers = [k];
      },
    },
    expect: ok({ docker: { v1: { role: 'targets', digest: digestOf('v1 in targets') } } }),
  },
  'delegation-sha1-cert': {
    description: 'the targets/c key is a certificate signed with ecdsa-with-SHA1',
    spec: '§7.8.5',
    hooks: { edit: (m) => { const k = x509Key(K.c, { cn: 'anyone', alg: 'ecdsa-sha1' }); replaceDelegationKey(m, 'targets/c', k); } },
    expect: fail('ERR_DELEGATION_CERT_INVALID', 'targets/c'),
  },
  'delegation-expired-cert': {
    description: 'the targets/c key is a certificate that expired in 2021 with an unrelated CN: fine for a delegation',
    spec: '§7.8.5',
    hooks: { edit: (m) => { const k = x509Key(K.c, { cn: 'unrelated', notAfter: '2021-01-01T00:00:00Z' }); replaceDelegationKey(m, 'targets/c', k); } },
    expect: ok({ notary: { deep: { role: 'targets/c', digest: digestOf('deep in c') } } }),
  },
  // §13.13
  ...failurePolicyCases(),
  // §13.15
  'expires-without-zone': {
    description: 'targets expires "2035-01-01T00:00:00" (no zone): Go refuses it, new Date() would take it as local time',
    spec: '§7.11, §13.15',
    hooks: { edit: (m) => (m.targets.signed.expires = '2035-01-01T00:00:00') },
    expect: fail('ERR_METADATA_INVALID', 'targets'),
  },
  'expires-lower-case-t': {
    description: 'snapshot expires with a lower-case "t"',
    spec: '§2.2, §13.15',
    hooks: { edit: (m) => (m.snapshot.signed.expires = '2035-01-01t00:00:00Z') },
    expect: fail('ERR_METADATA_INVALID', 'snapshot'),
  },
  'expires-offset-without-colon': {
    description: 'timestamp expires "2035-01-01T00:00:00+0100"',
    spec: '§2.2, §13.15',
    hooks: { edit: (m) => (m.timestamp.signed.expires = '2035-01-01T00:00:00+0100') },
    expect: fail('ERR_METADATA_INVALID', 'timestamp'),
  },
  'expires-equals-now': {
    description: 'timestamp expires exactly at now (with an offset and nanoseconds): still valid, expires < now is expired',
    spec: '§7.11',
    hooks: { edit: (m) => (m.timestamp.signed.expires = '2030-01-01T01:00:00.000000000+01:00') },
    expect: ok(),
  },
  'expires-one-ms-before-now': {
    description: 'timestamp expired 1 ms before now, written with nanoseconds: no clock skew allowed',
    spec: '§7.11',
    hooks: { edit: (m) => (m.timestamp.signed.expires = '2029-12-31T23:59:59.999999999Z') },
    expect: fail('ERR_METADATA_EXPIRED', 'timestamp'),
  },
  'root-expired': {
    description: 'root.json expired (its certificate is still valid)',
    spec: '§7.10 step 1',
    hooks: { edit: (m) => (m.root.signed.expires = '2029-06-01T00:00:00Z') },
    expect: fail('ERR_METADATA_EXPIRED', 'root'),
  },
  // §13.16
  'versions-not-compared-between-roles': {
    description: 'snapshot version 1 while targets is version 9: offline, Notary compares no versions between roles',
    spec: '§7.7, §13.16',
    hooks: { edit: (m) => { m.snapshot.signed.version = 1; m.targets.signed.version = 9; } },
    expect: ok(),
  },
  'version-zero': {
    description: 'targets version 0',
    spec: '§2.2',
    hooks: { edit: (m) => (m.targets.signed.version = 0) },
    expect: fail('ERR_METADATA_INVALID', 'targets'),
  },
  'version-as-string': {
    description: 'targets version "2" (a string): Go int decoding refuses it',
    spec: '§2.2',
    hooks: { edit: (m) => (m.targets.signed.version = '2') },
    expect: fail('ERR_METADATA_MALFORMED', 'targets'),
  },
  'wrong-type-field': {
    description: 'snapshot _type "snapshot" (lower case)',
    spec: '§2.2',
    hooks: { edit: (m) => (m.snapshot.signed._type = 'snapshot') },
    expect: fail('ERR_METADATA_INVALID', 'snapshot'),
  },
  'root-missing-timestamp-role': {
    description: 'root.json without a timestamp role',
    spec: '§2.3',
    hooks: { edit: (m) => delete m.root.signed.roles.timestamp },
    expect: fail('ERR_METADATA_INVALID', 'root'),
  },
  // §14
  'duplicate-targets-member': {
    description: 'targets.json signed part with "targets" twice: Go merges the maps, the signature covers the last; we refuse',
    spec: '§14.1',
    hooks: { signedText: (role, text) => (role === 'targets' ? text.replace('"targets":{', `"targets":{"evil":${JSON.stringify(fileMeta('evil'))}},"targets":{`) : undefined) },
    expect: fail('ERR_METADATA_MALFORMED', 'targets'),
  },
  // A delegate holds its own key, so it can sign any bytes into its file: these are signed.
  'delegate-signs-trailing-comma-in-targets': {
    description: 'targets/releases signs bytes with a trailing comma inside "targets" (not JSON; JSON.parse never sees the targets text on the fast path)',
    spec: '§14.6',
    hooks: delegateSigns('targets/releases', K.releases, (t) => t.replace(/\}\},"version":/, '},},"version":')),
    expect: fail('ERR_METADATA_MALFORMED', 'targets/releases'),
  },
  'delegate-signs-value-without-name-in-targets': {
    description: 'targets/releases signs bytes with a bare value where a target name belongs in "targets"',
    spec: '§14.6',
    hooks: delegateSigns('targets/releases', K.releases, (t) => t.replace(/\}\},"version":/, '},7},"version":')),
    expect: fail('ERR_METADATA_MALFORMED', 'targets/releases'),
  },
  'case-variant-member': {
    description: 'targets.json signed part with a "Targets" member beside "targets": Go merges them case-insensitively',
    spec: '§14.1',
    hooks: { edit: (m) => (m.targets.signed.Targets = { evil: fileMeta('evil') }) },
    expect: fail('ERR_METADATA_MALFORMED', 'targets'),
  },
  'case-variant-long-s-in-file-meta': {
    description: 'a target entry with "hashe\u017f" (long s) beside "hashes": Go folds \u017f to s and merges it (found in review)',
    spec: '§14.1',
    hooks: { edit: (m) => (m.targets.signed.targets.v1['hashe\u017f'] = { sha256: b64(sha('sha256', 'evil')) }) },
    expect: fail('ERR_METADATA_MALFORMED', 'targets'),
  },
  'case-variant-long-s-in-signed': {
    description: 'signed carries "target\u017f" beside "targets": Go would merge its entries into targets',
    spec: '§14.1',
    hooks: { edit: (m) => (m.targets.signed['target\u017f'] = { v1: fileMeta('evil') }) },
    expect: fail('ERR_METADATA_MALFORMED', 'targets'),
  },
  'case-variant-kelvin-sign': {
    description: 'the root key object carries "\u212Aeytype" (Kelvin sign) beside "keytype"',
    spec: '§14.1',
    hooks: { edit: (m) => { const k = m.root.signed.keys[keyId(K.targets)]; m.root.signed.keys[keyId(K.targets)] = { ...k, '\u212Aeytype': 'ed25519' }; } },
    expect: fail('ERR_METADATA_MALFORMED', 'root'),
  },
  'delegation-listed-twice': {
    description: 'targets lists targets/releases twice (Notary keys from the first entry, paths from each); we refuse',
    spec: '§2.4 (found in review)',
    hooks: { edit: (m) => m.targets.signed.delegations.roles.push({ keyids: [keyId(K.c)], name: 'targets/releases', paths: [''], threshold: 1 }) },
    expect: fail('ERR_ROLE_INVALID', 'targets'),
  },
  'target-sha256-wrong-length': {
    description: 'tag v1 signed with a 16-byte "sha256": it names no manifest docker could pull',
    spec: '§9.3 (found in review)',
    hooks: { edit: (m) => (m.targets.signed.targets.v1 = { hashes: { sha256: b64(Buffer.alloc(16, 7)) }, length: 13 }) },
    expect: ok({ docker: { v1: { error: 'ERR_TARGET_NO_SHA256' } } }),
  },
  'root-pem-extra-block-type-with-dash': {
    description: 'the root key PEM holds the certificate and a "X-Y" block: Go refuses a bundle with a non-certificate block',
    spec: '§6 step 2 (found in review)',
    hooks: {
      edit: (m) => {
        const der = makeCert({ cn: GUN, subjectKey: K.root });
        const bundle = { ...K.root, json: { keytype: 'ecdsa-x509', keyval: { private: null, public: b64(Buffer.from(pem(der) + '-----BEGIN X-Y-----\nAAAA\n-----END X-Y-----\n')) } } };
        replaceRootKey(m, bundle);
      },
      // Sign under the ID of the certificate alone, as a Go rebuild of the leaf would name it.
      signatures: (role, sigs) => (role === 'root' ? sigs.map((s) => ({ ...s, keyid: keyId(x509Key(K.root)) })) : undefined),
    },
    expect: fail('ERR_ROOT_CERT_INVALID', 'root'),
  },
  'digest-signed-as-v9-and-v10': {
    description: 'one digest signed as v9 and v10 in targets: name@digest resolves to v9 first (natural order) in the CLI and admission alike',
    spec: '§9.3 (issue 11)',
    hooks: { edit: (m) => { m.targets.signed.targets.v9 = fileMeta('nine and ten'); m.targets.signed.targets.v10 = fileMeta('nine and ten'); } },
    expect: ok({ docker: { v9: { role: 'targets', digest: digestOf('nine and ten') }, v10: { role: 'targets', digest: digestOf('nine and ten') } } }),
  },
  'non-canonical-base64-key': {
    description: 'a root key whose public base64 has a line break in it (Go decodes it; we require canonical base64)',
    spec: '§14.2',
    hooks: { edit: (m) => { const id = keyId(K.snapshot); const pub = K.snapshot.json.keyval.public; m.root.signed.keys[id] = { keytype: 'ecdsa', keyval: { private: null, public: `${pub.slice(0, 20)}\n${pub.slice(20)}` } }; } },
    expect: fail('ERR_METADATA_MALFORMED', 'root'),
  },
  'invalid-utf8': {
    description: 'a target name with an invalid UTF-8 byte in targets.json',
    spec: '§14.6',
    hooks: { bytes: (role, buf) => (role === 'targets' ? Buffer.from(buf.toString('latin1').replace('"latest"', '"lat\u00ffst"'), 'latin1') : undefined) },
    expect: fail('ERR_METADATA_MALFORMED', 'targets'),
  },
  'byte-order-mark': {
    description: 'snapshot.json starts with a UTF-8 BOM',
    spec: 'issue 6 hostile inputs',
    hooks: { bytes: (role, buf) => (role === 'snapshot' ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), buf]) : undefined) },
    expect: fail('ERR_METADATA_MALFORMED', 'snapshot'),
  },
  'truncated-file': {
    description: 'timestamp.json cut in half',
    spec: 'issue 6 hostile inputs',
    hooks: { bytes: (role, buf) => (role === 'timestamp' ? buf.subarray(0, buf.length >> 1) : undefined) },
    expect: fail('ERR_METADATA_MALFORMED', 'timestamp'),
  },
  'integer-beyond-2-53': {
    description: 'a target length of 2^53 + 1',
    spec: '§5.1',
    hooks: { signedText: (role, text) => (role === 'targets' ? text.replace('"length":13', '"length":9007199254740993') : undefined) },
    expect: fail('ERR_METADATA_MALFORMED', 'targets'),
  },
  'mix-and-match': {
    description: 'a validly signed targets.json from another publish (version 3, another v1) beside the snapshot of this one',
    spec: 'issue 6 hostile inputs',
    hooks: { after: (files) => { files.targets = build({ edit: (m) => { m.targets.signed.version = 3; m.targets.signed.targets.v1 = fileMeta('another v1'); } }).targets; } },
    expect: fail('ERR_HASH_MISMATCH', 'targets'),
  },
};

function replaceRootKey(m, key) {
  const old = m.root.signed.roles.root.keyids[0];
  delete m.root.signed.keys[old];
  m.root.signed.keys[keyId(key)] = key.json;
  m.root.signed.roles.root.keyids = [keyId(key)];
  m.root.signers = [key];
}
function replaceDelegationKey(m, role, key) {
  const d = m.targets.signed.delegations;
  const entry = d.roles.find((r) => r.name === role);
  delete d.keys[entry.keyids[0]];
  d.keys[keyId(key)] = key.json;
  entry.keyids = [keyId(key)];
  m[role].signers = [key];
}

function rootCertCases() {
  const certCase = (description, certOpts, expect, keyFn = () => K.root) => ({
    description,
    spec: '§6 step 3, §13.7',
    hooks: { edit: (m) => replaceRootKey(m, x509Key(keyFn(), certOpts)) },
    expect,
  });
  // One root key whose PEM holds several certificates, in the given order (spec §6 step 2).
  const bundle = (description, ders) => ({
    description,
    spec: '§6 step 2',
    hooks: { edit: (m) => replaceRootKey(m, { ...K.root, json: { keytype: 'ecdsa-x509', keyval: { private: null, public: b64(Buffer.from(ders.map((d) => pem(d)).join(''))) } } }) },
    expect: fail('ERR_ROOT_CERT_INVALID', 'root'),
  });
  const leaf = makeCert({ cn: GUN, subjectKey: K.root });
  return {
    'root-cert-two-leaves': bundle('the root key holds two leaf certificates for the GUN: Notary wants exactly one', [leaf, makeCert({ cn: GUN, subjectKey: ecKey('second-leaf'), serial: 2 })]),
    'root-cert-ca-before-leaf': bundle('the root key holds a CA certificate first, then the leaf: the leaf must come first', [makeCert({ cn: 'bundled CA', subjectKey: ecKey('bundled-ca'), ca: true }), leaf]),
    'root-cert-cn-mismatch': certCase('root certificate CN is another GUN', { cn: 'example.com/trustgate/other' }, fail('ERR_ROOT_CERT_INVALID', 'root')),
    'root-cert-cn-wildcard': certCase('root certificate CN "example.com/trust*" matches the GUN by its * prefix rule', { cn: 'example.com/trust*' }, ok()),
    'root-cert-expired': certCase('root certificate expired in 2029 (root.json itself valid to 2035)', { notAfter: '2029-06-01T00:00:00Z' }, fail('ERR_ROOT_CERT_INVALID', 'root')),
    'root-cert-not-before-12h': certCase('root certificate valid from 12 hours after now: inside the 1-day leeway', { notBefore: '2030-01-01T12:00:00Z' }, ok()),
    'root-cert-not-before-36h': certCase('root certificate valid from 36 hours after now: outside the 1-day leeway', { notBefore: '2030-01-02T12:00:00Z' }, fail('ERR_ROOT_CERT_INVALID', 'root')),
    'root-cert-sha1': certCase('root certificate signed with ecdsa-with-SHA1', { alg: 'ecdsa-sha1' }, fail('ERR_ROOT_CERT_INVALID', 'root')),
    'root-cert-is-ca': certCase('root certificate is a CA certificate', { ca: true }, fail('ERR_ROOT_CERT_INVALID', 'root')),
    'root-cert-rsa-1024': certCase('root certificate with an RSA-1024 key', {}, fail('ERR_ROOT_CERT_INVALID', 'root'), () => rsaKey(1024)),
    'root-cert-rsa-2048': certCase('root certificate with an RSA-2048 key, root signed rsapkcs1v15', {}, ok(), () => rsaKey(2048)),
  };
}

function caPinCases() {
  const caKey = ecKey('pinned-ca');
  const caDer = makeCert({ cn: 'trustgate test CA', subjectKey: caKey, ca: true });
  const otherCaDer = makeCert({ cn: 'another CA', subjectKey: ecKey('other-ca'), ca: true });
  const notCaKey = ecKey('not-a-ca');
  // No key usage extension either, so only the CA flag says it may not sign certificates.
  const notCaDer = makeCert({ cn: 'not a CA', subjectKey: notCaKey, eku: null, keyUsage: false });
  const issued = (eku) => (m) => {
    const der = makeCert({ cn: GUN, subjectKey: K.root, issuerKey: caKey, issuerCn: 'trustgate test CA', eku, serial: 7 });
    replaceRootKey(m, { ...K.root, json: { keytype: 'ecdsa-x509', keyval: { private: null, public: b64(Buffer.from(pem(der))) } } });
  };
  const pins = (der) => ({ ca: { 'example.com/': pem(der) } });
  return {
    'pin-ca-issued-leaf': { description: 'root certificate issued by the pinned CA, EKU serverAuth', spec: '§6.1', pins: pins(caDer), hooks: { edit: issued('1.3.6.1.5.5.7.3.1') }, expect: ok() },
    'pin-ca-no-eku': { description: 'root certificate issued by the pinned CA, no EKU extension', spec: '§6.1', pins: pins(caDer), hooks: { edit: issued(null) }, expect: ok() },
    'pin-ca-codesigning-eku': {
      description: "root certificate issued by the pinned CA with EKU codeSigning (what notary puts on its own roots): Go's chain verification wants serverAuth",
      spec: '§6.1',
      pins: pins(caDer),
      hooks: { edit: issued('1.3.6.1.5.5.7.3.3') },
      expect: fail('ERR_ROOT_PIN_MISMATCH', 'root'),
    },
    'pin-ca-other-ca': { description: 'root certificate issued by a CA other than the pinned one', spec: '§6.1', pins: pins(otherCaDer), hooks: { edit: issued('1.3.6.1.5.5.7.3.1') }, expect: fail('ERR_ROOT_PIN_MISMATCH', 'root') },
    'pin-ca-self-signed-root': { description: 'a self-signed root (TOFU-style) when a CA is pinned for the GUN prefix', spec: '§6.1', pins: pins(caDer), expect: fail('ERR_ROOT_PIN_MISMATCH', 'root') },
    'pin-ca-issuer-not-a-ca': {
      description: 'root certificate issued by the pinned certificate, which is not a CA certificate: Go refuses such a parent',
      spec: '§6.1',
      pins: pins(notCaDer),
      hooks: {
        edit: (m) => {
          const der = makeCert({ cn: GUN, subjectKey: K.root, issuerKey: notCaKey, issuerCn: 'not a CA', eku: '1.3.6.1.5.5.7.3.1', serial: 9 });
          replaceRootKey(m, { ...K.root, json: { keytype: 'ecdsa-x509', keyval: { private: null, public: b64(Buffer.from(pem(der))) } } });
        },
      },
      expect: fail('ERR_ROOT_PIN_MISMATCH', 'root'),
    },
    'pin-ca-not-before-12h': {
      description: 'root certificate issued by the pinned CA, valid from 12 hours after now: Go chain verification has no leeway (found in review)',
      spec: '§6.1',
      pins: pins(caDer),
      hooks: {
        edit: (m) => {
          const der = makeCert({ cn: GUN, subjectKey: K.root, issuerKey: caKey, issuerCn: 'trustgate test CA', eku: '1.3.6.1.5.5.7.3.1', serial: 8, notBefore: '2030-01-01T12:00:00Z' });
          replaceRootKey(m, { ...K.root, json: { keytype: 'ecdsa-x509', keyval: { private: null, public: b64(Buffer.from(pem(der))) } } });
        },
      },
      expect: fail('ERR_ROOT_PIN_MISMATCH', 'root'),
    },
    ...caChainCases(caKey, caDer, pins),
    'pin-certs-match': { description: 'root key ID pinned for the GUN', spec: '§6.1', pins: { certs: { [GUN]: [keyId(K.root)] } }, expect: ok() },
    'pin-certs-wildcard-mismatch': { description: 'another key ID pinned for example.com/*', spec: '§6.1', pins: { certs: { 'example.com/*': [keyId(K.other)] } }, expect: fail('ERR_ROOT_PIN_MISMATCH', 'root') },
  };
}

/** CA pinning through intermediates and extensions: what Go's chain verification refuses. */
function caChainCases(caKey, caDer, pins) {
  const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
  // The root key's PEM holds the leaf first, then the intermediates (spec §6 step 3).
  const useChain = (leaf, ...intermediates) => (m) =>
    replaceRootKey(m, { ...K.root, json: { keytype: 'ecdsa-x509', keyval: { private: null, public: b64(Buffer.from([leaf, ...intermediates].map((d) => pem(d)).join(''))) } } });
  const leafUnder = (issuerKey, issuerCn, extra = {}) => makeCert({ cn: GUN, subjectKey: K.root, issuerKey, issuerCn, eku: SERVER_AUTH, serial: 21, ...extra });
  const subCa = (cn, key, issuerKey, issuerCn, extra = {}) => makeCert({ cn, subjectKey: key, issuerKey, issuerCn, ca: true, serial: 22, ...extra });
  const pathCaKey = ecKey('pinned-ca-with-path-length');
  const int1Key = ecKey('intermediate-ca-1');
  const int2Key = ecKey('intermediate-ca-2');
  const pathCa = (pathLen) => makeCert({ cn: 'path CA', subjectKey: pathCaKey, ca: true, pathLen });
  const underPathCa = subCa('intermediate CA 1', int1Key, pathCaKey, 'path CA');
  const int1 = (extra) => subCa('intermediate CA 1', int1Key, caKey, 'trustgate test CA', extra);
  const int2 = subCa('intermediate CA 2', int2Key, int1Key, 'intermediate CA 1');
  const unknownExt = (critical) => seq(oid('1.3.6.1.4.1.99999.1'), ...(critical ? [bool(true)] : []), octet(Buffer.from([0x05, 0x00])));
  const ncKey = ecKey('name-constrained-ca');
  // Permitted subtree: DNS name example.com.
  const nameConstraints = seq(oid('2.5.29.30'), bool(true), octet(seq(tlv(0xa0, seq(tlv(0x82, Buffer.from('example.com')))))));
  const ncCa = makeCert({ cn: 'constrained CA', subjectKey: ncKey, ca: true, extensions: [nameConstraints] });
  return {
    'pin-ca-chain-within-path-length': {
      description: 'root certificate issued by an intermediate CA under the pinned CA, whose pathLenConstraint 1 allows one intermediate',
      spec: '§6.1',
      pins: pins(pathCa(1)),
      hooks: { edit: useChain(leafUnder(int1Key, 'intermediate CA 1'), underPathCa) },
      expect: ok(),
    },
    'pin-ca-path-length-zero-with-intermediate': {
      description: 'the pinned CA has pathLenConstraint 0 but the chain has an intermediate: Go refuses (TooManyIntermediates)',
      spec: '§6.1',
      pins: pins(pathCa(0)),
      hooks: { edit: useChain(leafUnder(int1Key, 'intermediate CA 1'), underPathCa) },
      expect: fail('ERR_ROOT_PIN_MISMATCH', 'root'),
    },
    'pin-ca-two-intermediates': {
      description: 'root certificate → intermediate CA 2 → intermediate CA 1 → pinned CA, no path length constraints',
      spec: '§6.1',
      pins: pins(caDer),
      hooks: { edit: useChain(leafUnder(int2Key, 'intermediate CA 2'), int2, int1()) },
      expect: ok(),
    },
    'pin-ca-intermediate-path-length-exceeded': {
      description: 'as pin-ca-two-intermediates, but intermediate CA 1 has pathLenConstraint 0 and another intermediate below it: Go refuses',
      spec: '§6.1',
      pins: pins(caDer),
      hooks: { edit: useChain(leafUnder(int2Key, 'intermediate CA 2'), int2, int1({ pathLen: 0 })) },
      expect: fail('ERR_ROOT_PIN_MISMATCH', 'root'),
    },
    'pin-ca-leaf-unknown-noncritical-extension': {
      description: 'root certificate issued by the pinned CA with an unknown, non-critical extension',
      spec: '§6.1',
      pins: pins(caDer),
      hooks: { edit: useChain(leafUnder(caKey, 'trustgate test CA', { extensions: [unknownExt(false)] })) },
      expect: ok(),
    },
    'pin-ca-leaf-unknown-critical-extension': {
      description: 'root certificate issued by the pinned CA with an unknown critical extension: Go refuses (UnhandledCriticalExtension)',
      spec: '§6.1',
      pins: pins(caDer),
      hooks: { edit: useChain(leafUnder(caKey, 'trustgate test CA', { extensions: [unknownExt(true)] })) },
      expect: fail('ERR_ROOT_PIN_MISMATCH', 'root'),
    },
    'pin-ca-name-constrained-ca': {
      description:
        'the pinned CA carries name constraints (DNS example.com); the leaf has no subject alternative names, so Go would not apply them and accepts. trustgate does not evaluate name constraints and refuses any chain through such a CA (stricter than Notary)',
      spec: '§6.1',
      pins: pins(ncCa),
      hooks: { edit: useChain(leafUnder(ncKey, 'constrained CA')) },
      expect: fail('ERR_ROOT_PIN_MISMATCH', 'root'),
    },
  };
}

function rotationCases() {
  const root2 = x509Key(ecKey('root-v2'));
  const rotate = (signers) => (m) => {
    // As `notary key rotate GUN root` does: the new key replaces the old one in roles.root,
    // the old key stays in keys, the version goes up.
    m.root.signed.keys[keyId(root2)] = root2.json;
    m.root.signed.roles.root.keyids = [keyId(root2)];
    m.root.signed.version = 2;
    m.root.signers = signers;
  };
  const c = (description, signers, expect, trusted = true) => ({ description, spec: '§6 step 4, §7.6, §13.9', trustedRoot: trusted, hooks: { edit: rotate(signers) }, expect });
  return {
    'rotation-signed-by-both': c('root v1 trusted; cached root v2 signed by the new and the old root key', [root2, K.root], ok({ docker: { v1: { role: 'targets', digest: digestOf('v1 in targets') } } })),
    'rotation-new-key-only': c('root v1 trusted; cached root v2 signed only by its new key', [root2], fail('ERR_ROOT_ROTATION_FAILED', 'root')),
    'rotation-old-key-only': c('root v1 trusted; cached root v2 signed only by the old key (its own threshold is not met)', [K.root], fail('ERR_THRESHOLD_NOT_MET', 'root')),
    'rotation-new-key-only-tofu': c('no trusted state: root v2 signed only by its new key is accepted on first use (the TOFU caveat)', [root2], ok(), false),
  };
}

/** The root key of version `n` in a chain that rotates the root key at every version (v1: the base root's key). */
function chainKey(n) {
  return n === 1 ? K.root : x509Key(ecKey(`chain-root-v${n}`));
}
/**
 * Root version `n` of that chain, as `notary key rotate GUN root` writes it: roles.root lists only the
 * new key, the old keys stay in keys, signed by the previous version's key and the new one (§6 step 4).
 * `key` replaces the new key (a substitute: another root claiming version `n`, a valid rotation from n-1).
 */
function chainRoot(n, key = chainKey(n)) {
  return {
    edit: (m) => {
      if (n === 1) return;
      for (let i = 2; i < n; i++) m.root.signed.keys[keyId(chainKey(i))] = chainKey(i).json;
      m.root.signed.keys[keyId(key)] = key.json;
      m.root.signed.roles.root = { keyids: [keyId(key)], threshold: 1 };
      m.root.signed.version = n;
      m.root.signers = [chainKey(n - 1), key];
    },
  };
}
function substitute(n) {
  return chainRoot(n, x509Key(ecKey(`chain-root-v${n}-substitute`)));
}

/**
 * Rotation across several versions through the caller's intermediate roots (§7.6 step 2: Notary
 * fetches `<v>.root.json` for every v strictly between the trusted and the newest version, in
 * order, each validated against the one before). The caller hands trustgate a bag of roots instead
 * of a server, so each case says what Notary answers for the server that holds those files: extras
 * outside (trusted, cached) are never fetched, order does not exist, a missing version fails.
 */
function rotationChainCases() {
  const v1 = { docker: { v1: { role: 'targets', digest: digestOf('v1 in targets') } } };
  const c = (description, trusted, cached, intermediates, expect) => ({
    description,
    spec: '§6 step 4, §7.6',
    trustedRoot: chainRoot(trusted),
    intermediateRoots: intermediates.map((n) => (typeof n === 'number' ? chainRoot(n) : n)),
    hooks: chainRoot(cached),
    expect,
  });
  return {
    'rotation-chain-in-order': c('root v1 trusted, cached root v4, intermediates v2 and v3 in order: each rotates from the one before', 1, 4, [2, 3], ok(v1)),
    'rotation-chain-out-of-order': c(
      'root v1 trusted, cached root v5, intermediates given as v4, v2, v3: used in version order (Notary fetches 2, 3, 4); taken as given, v4 does not rotate from v1',
      1, 5, [4, 2, 3], ok(v1),
    ),
    'rotation-chain-extra-below-trusted': c(
      'root v2 trusted, cached root v4, intermediates v1 and v3: v1 is at or below the trusted version, never fetched by Notary, and is not signed by v2\'s key',
      2, 4, [1, 3], ok(v1),
    ),
    'rotation-chain-extra-above-cached': c(
      'root v1 trusted, cached root v3, intermediates v2 and v4: v4 is not below the cached version, never fetched by Notary; chained in, the cached v3 would have to rotate from v4',
      1, 3, [2, 4], ok(v1),
    ),
    'rotation-chain-substitute-at-trusted-version': c(
      'root v2 trusted, cached root v4, intermediates: another root claiming v2 (a valid rotation from v1, not signed by the trusted v2\'s key) and v3: the substitute is not above the trusted version, so it is ignored',
      2, 4, [substitute(2), 3], ok(v1),
    ),
    'rotation-chain-substitute-at-cached-version': c(
      'root v1 trusted, cached root v4, intermediates v2, v3 and another root claiming v4 (a valid rotation from v3): not below the cached version, so it is ignored; chained in, the cached v4 would have to rotate from it',
      1, 4, [2, 3, substitute(4)], ok(v1),
    ),
    'rotation-chain-two-roots-claim-one-version': c(
      'root v1 trusted, cached root v4, intermediates v2, a substitute v3 (a valid rotation from v2) and the real v3: a server holds one 3.root.json, so two different roots for one version are refused whatever their order',
      1, 4, [2, substitute(3), 3], fail('ERR_ROOT_ROTATION_FAILED', 'root'),
    ),
    'rotation-chain-two-roots-claim-one-version-real-first': c(
      'as rotation-chain-two-roots-claim-one-version with the real v3 before the substitute: refused the same way',
      1, 4, [2, 3, substitute(3)], fail('ERR_ROOT_ROTATION_FAILED', 'root'),
    ),
    'rotation-chain-duplicate-copies': c('root v1 trusted, cached root v4, intermediates v3, v2, v3, v2: byte-identical copies count once', 1, 4, [3, 2, 3, 2], ok(v1)),
    'rotation-chain-skip-signed-by-trusted': {
      ...c(
        'root v1 trusted, cached root v3 signed by the v1 key and its own, no intermediates: the trusted root\'s threshold is met by its own key, so v3 rotates from v1 directly. Fetched from a server, Notary asks for 2.root.json first and fails when it is not there (test/fetch/generated-update.test.ts)',
        1, 3, [], ok(v1),
      ),
      hooks: { edit: (m) => { chainRoot(3).edit(m); m.root.signers = [chainKey(1), chainKey(3)]; } },
    },
    'rotation-chain-version-gap': c(
      'root v1 trusted, cached root v5, intermediates v2 and v4 (no v3): v4 is not signed by v2\'s key; Notary fails too (3.root.json is not found)',
      1, 5, [2, 4], fail('ERR_ROOT_ROTATION_FAILED', 'root'),
    ),
  };
}

/**
 * Boundaries a mutation run showed no vector pinned (issue 17): each case fails if its rule goes,
 * and most come in pairs, one just inside the rule and one just outside.
 */
function boundaryCases() {
  return { ...thresholdBoundaryCases(), ...rotationBoundaryCases(), ...pinBoundaryCases(), ...rootShapeBoundaryCases(), ...metaBoundaryCases() };
}

/** A second root certificate key, beside K.root. */
function rootB() {
  return x509Key(ecKey('root-b'));
}
/** roles.root lists K.root and rootB() with threshold 2, signed by `signers`. */
function twoRootKeys(signers) {
  return (m) => {
    m.root.signed.keys[keyId(rootB())] = rootB().json;
    m.root.signed.roles.root = { keyids: [keyId(K.root), keyId(rootB())], threshold: 2 };
    m.root.signers = signers;
  };
}

function thresholdBoundaryCases() {
  const v1 = { docker: { v1: { role: 'targets', digest: digestOf('v1 in targets') } } };
  const zero = (role, mode) => ({
    description: `root gives the ${role} role threshold 0 (${mode}): invalid root structure in every mode`,
    spec: '§2.3, §4.4',
    mode,
    hooks: { edit: (m) => (m.root.signed.roles[role].threshold = 0) },
    expect: fail('ERR_METADATA_INVALID', 'root'),
  });
  const zeroCases = {};
  for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
    for (const mode of ['strict', 'online-equivalent']) zeroCases[`threshold-zero-${role}-${mode}`] = zero(role, mode);
  }
  for (const mode of ['strict', 'online-equivalent']) {
    zeroCases[`threshold-zero-delegation-${mode}`] = {
      description: `targets gives targets/releases threshold 0 (${mode}): targets is structurally invalid, never a droppable threshold failure`,
      spec: '§2.4, §7.8.4',
      mode,
      hooks: { edit: (m) => (m.targets.signed.delegations.roles[0].threshold = 0) },
      expect: fail('ERR_METADATA_INVALID', 'targets'),
    };
    zeroCases[`threshold-zero-nested-delegation-${mode}`] = {
      description: `targets/a gives targets/a/b threshold 0 (${mode}): targets/a is structurally invalid, which no mode drops`,
      spec: '§2.4, §7.8.4',
      mode,
      hooks: { edit: (m) => (m['targets/a'].signed.delegations.roles[0].threshold = 0) },
      expect: fail('ERR_METADATA_INVALID', 'targets/a'),
    };
  }
  const rsa = (bits) => (m) => {
    const k = rsaKey(bits);
    delete m.root.signed.keys[keyId(K.targets)];
    m.root.signed.keys[keyId(k)] = k.json;
    m.root.signed.roles.targets.keyids = [keyId(k)];
    m.targets.signers = [k];
  };
  return {
    'root-threshold-two-signed-by-one': {
      description: 'roles.root lists two certificate keys with threshold 2; root.json is signed by one of them',
      spec: '§4.4, §6 step 6',
      hooks: { edit: twoRootKeys([K.root]) },
      expect: fail('ERR_THRESHOLD_NOT_MET', 'root'),
    },
    'root-threshold-two-signed-by-both': {
      description: 'roles.root lists two certificate keys with threshold 2; root.json is signed by both',
      spec: '§4.4, §6 step 6',
      hooks: { edit: twoRootKeys([K.root, rootB()]) },
      expect: ok(v1),
    },
    'snapshot-signed-by-targets-key': {
      description: "snapshot signed by the targets key, which root's keys hold but roles.snapshot does not list",
      spec: '§4.3',
      hooks: { edit: (m) => (m.snapshot.signers = [K.targets]) },
      expect: fail('ERR_THRESHOLD_NOT_MET', 'snapshot'),
    },
    'timestamp-signed-by-targets-key': {
      description: "timestamp signed by the targets key, which root's keys hold but roles.timestamp does not list",
      spec: '§4.3',
      hooks: { edit: (m) => (m.timestamp.signers = [K.targets]) },
      expect: fail('ERR_THRESHOLD_NOT_MET', 'timestamp'),
    },
    'targets-signed-by-snapshot-key': {
      description: "targets signed by the snapshot key, which root's keys hold but roles.targets does not list",
      spec: '§4.3',
      hooks: { edit: (m) => (m.targets.signers = [K.snapshot]) },
      expect: fail('ERR_THRESHOLD_NOT_MET', 'targets'),
    },
    'targets-plain-rsa-1024': {
      description: 'the targets key is a plain "rsa" key of 1024 bits, signed rsapkcs1v15: keys under 2048 bits never verify',
      spec: '§4.2',
      hooks: { edit: rsa(1024) },
      expect: fail('ERR_THRESHOLD_NOT_MET', 'targets'),
    },
    'targets-plain-rsa-2048': {
      description: 'the targets key is a plain "rsa" key of 2048 bits, signed rsapkcs1v15',
      spec: '§4.2',
      hooks: { edit: rsa(2048) },
      expect: ok(v1),
    },
    ...zeroCases,
  };
}

function rotationBoundaryCases() {
  const root2 = x509Key(ecKey('root-v2'));
  const v1 = { docker: { v1: { role: 'targets', digest: digestOf('v1 in targets') } } };
  // Cached root v2 lists only root2 for roles.root; `oldKeys` are the trusted root's keys it keeps in `keys`.
  const rotated = (oldKeys, signers) => ({
    edit: (m) => {
      for (const k of oldKeys) m.root.signed.keys[keyId(k)] = k.json;
      m.root.signed.keys[keyId(root2)] = root2.json;
      m.root.signed.roles.root = { keyids: [keyId(root2)], threshold: 1 };
      m.root.signed.version = 2;
      m.root.signers = signers;
    },
  });
  const oldCert = (certOpts, keyFn = () => K.root) => x509Key(keyFn(), certOpts);
  const trustedWith = (key) => ({ edit: (m) => replaceRootKey(m, key) });
  const unusable = (what, key, expect) => ({
    description: `the trusted root v1's only certificate is ${what}; cached root v2 is signed by the new key and that old key`,
    spec: '§6 step 4, §7.6',
    trustedRoot: trustedWith(key),
    hooks: rotated([key], [root2, key]),
    expect,
  });
  const cnMismatch = oldCert({ cn: 'example.com/trustgate/other' });
  const sha1 = oldCert({ alg: 'ecdsa-sha1' });
  const expired = oldCert({ notAfter: '2029-06-01T00:00:00Z' });
  const rsa1024 = oldCert({}, () => rsaKey(1024));
  return {
    'rotation-previous-threshold-two-one-old-signature': {
      description: 'the trusted root v1 has root threshold 2 over two keys; cached root v2 is signed by its new key and only one old key',
      spec: '§6 step 4, §7.6',
      trustedRoot: { edit: twoRootKeys([K.root, rootB()]) },
      hooks: rotated([K.root, rootB()], [root2, K.root]),
      expect: fail('ERR_ROOT_ROTATION_FAILED', 'root'),
    },
    'rotation-previous-threshold-two-both-old-signatures': {
      description: 'the trusted root v1 has root threshold 2 over two keys; cached root v2 is signed by its new key and both old keys',
      spec: '§6 step 4, §7.6',
      trustedRoot: { edit: twoRootKeys([K.root, rootB()]) },
      hooks: rotated([K.root, rootB()], [root2, K.root, rootB()]),
      expect: ok(v1),
    },
    'rotation-previous-cert-cn-mismatch': unusable('for another GUN (CN mismatch)', cnMismatch, fail('ERR_ROOT_ROTATION_FAILED', 'root')),
    'rotation-previous-cert-sha1': unusable('signed with ecdsa-with-SHA1 (weak)', sha1, fail('ERR_ROOT_ROTATION_FAILED', 'root')),
    'rotation-previous-cert-rsa-1024': unusable('an RSA-1024 key (weak)', rsa1024, fail('ERR_ROOT_ROTATION_FAILED', 'root')),
    'rotation-previous-cert-expired': unusable('expired: the previous root\'s certificates are used without an expiry check', expired, ok(v1)),
  };
}

function pinBoundaryCases() {
  const caKey = ecKey('pinned-ca');
  const caDer = makeCert({ cn: 'trustgate test CA', subjectKey: caKey, ca: true });
  const otherCaDer = makeCert({ cn: 'another CA', subjectKey: ecKey('other-ca'), ca: true });
  const leafWith = (issuerKey) => (m) => {
    const der = makeCert({ cn: GUN, subjectKey: K.root, issuerKey, issuerCn: 'trustgate test CA', eku: '1.3.6.1.5.5.7.3.1', serial: 31 });
    replaceRootKey(m, { ...K.root, json: { keytype: 'ecdsa-x509', keyval: { private: null, public: b64(Buffer.from(pem(der))) } } });
  };
  const root = keyId(K.root);
  const other = keyId(K.other);
  const pinCase = (description, pins, expect, edit) => ({ description, spec: '§6.1', pins, ...(edit ? { hooks: { edit } } : {}), expect });
  const mismatch = fail('ERR_ROOT_PIN_MISMATCH', 'root');
  return {
    'pin-ca-issuer-name-only': pinCase(
      'root certificate names the pinned CA as its issuer but is signed by another key',
      { ca: { 'example.com/': pem(caDer) } }, mismatch, leafWith(ecKey('impostor-ca')),
    ),
    'pin-ca-longest-prefix-wins': pinCase(
      'CA pins for example.com/ (another CA) and example.com/trustgate/ (the issuing CA): the longer prefix decides',
      { ca: { 'example.com/': pem(otherCaDer), 'example.com/trustgate/': pem(caDer) } }, ok(), leafWith(caKey),
    ),
    'pin-ca-longest-prefix-refuses': pinCase(
      'CA pins for example.com/ (the issuing CA) and example.com/trustgate/ (another CA): the longer prefix decides',
      { ca: { 'example.com/': pem(caDer), 'example.com/trustgate/': pem(otherCaDer) } }, mismatch, leafWith(caKey),
    ),
    'pin-ca-prefix-outside-gun': pinCase(
      'a CA pinned for example.com/trustgate/repo/ does not cover example.com/trustgate/repo: trust on first use applies',
      { ca: { 'example.com/trustgate/repo/': pem(otherCaDer) } }, ok(),
    ),
    'pin-certs-longest-wildcard-wins': pinCase(
      'certs pinned for example.com/* (another key) and example.com/trustgate/* (the root key): the longest wildcard wins',
      { certs: { 'example.com/*': [other], 'example.com/trustgate/*': [root] } }, ok(),
    ),
    'pin-certs-longest-wildcard-refuses': pinCase(
      'certs pinned for example.com/* (the root key) and example.com/trustgate/* (another key): the longest wildcard wins',
      { certs: { 'example.com/*': [root], 'example.com/trustgate/*': [other] } }, mismatch,
    ),
    'pin-certs-exact-beats-wildcard': pinCase(
      'certs pinned for the GUN exactly (another key) and for example.com/trustgate/r* (the root key): the exact entry wins',
      { certs: { [GUN]: [other], 'example.com/trustgate/r*': [root] } }, mismatch,
    ),
    'pin-certs-wildcard-outside-gun': pinCase(
      'certs pinned for example.com/trustgate/repo/* (another key) do not cover example.com/trustgate/repo: trust on first use applies',
      { certs: { 'example.com/trustgate/repo/*': [other], 'example.com/trustgate/repository': [other] } }, ok(),
    ),
  };
}

/** Root structure and the intermediates Notary drops when it rebuilds a root key (notary-rules.md §2.3, §6 steps 2–3). */
function rootShapeBoundaryCases() {
  const caKey = ecKey('bundle-intermediate');
  const leaf = makeCert({ cn: GUN, subjectKey: K.root, issuerKey: caKey, issuerCn: 'bundle intermediate', serial: 51 });
  const bundled = (intermediate) => ({ ...K.root, json: { keytype: 'ecdsa-x509', keyval: { private: null, public: b64(Buffer.from(pem(leaf) + pem(intermediate))) } } });
  const leafOnlyId = keyId({ json: { keytype: 'ecdsa-x509', keyval: { private: null, public: b64(Buffer.from(pem(leaf))) } } });
  const expiredInt = makeCert({ cn: 'bundle intermediate', subjectKey: caKey, ca: true, notAfter: '2029-01-01T00:00:00Z', serial: 52 });
  const sha1Int = makeCert({ cn: 'bundle intermediate', subjectKey: caKey, ca: true, alg: 'ecdsa-sha1', serial: 53 });
  const validInt = makeCert({ cn: 'bundle intermediate', subjectKey: caKey, ca: true, serial: 54 });
  const asLeafOnly = { signatures: (role, sigs) => (role === 'root' ? sigs.map((s) => ({ ...s, keyid: leafOnlyId })) : undefined) };
  const c = (description, intermediate, expect, extra = {}) => ({
    description,
    spec: '§6 steps 2–3 key rebuild',
    hooks: { edit: (m) => replaceRootKey(m, bundled(intermediate)), ...extra },
    expect,
  });
  const ed = edKey('root-ed25519-leaf');
  const edSpki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(ed.json.keyval.public, 'base64')]);
  const edLeaf = makeCert({ cn: GUN, subjectKey: { spki: edSpki }, issuerKey: caKey, issuerCn: 'bundle intermediate', serial: 55 });
  const pemAs = (type, der) => pem(der).replaceAll('CERTIFICATE', type);
  return {
    'root-cert-ed25519-key': {
      description: 'the root certificate carries an Ed25519 key: Notary turns only RSA and ECDSA certificates into root keys',
      spec: '§6 steps 2–3',
      hooks: { edit: (m) => replaceRootKey(m, { ...K.root, json: { keytype: 'ecdsa-x509', keyval: { private: null, public: b64(Buffer.from(pem(edLeaf))) } } }) },
      expect: fail('ERR_ROOT_CERT_INVALID', 'root'),
    },
    'root-pem-ca-in-other-block-type': {
      description: 'the root key holds its leaf and then a CA certificate in an "X509 CERTIFICATE" block: only CERTIFICATE blocks are certificates, so the bundle is refused',
      spec: '§6 step 2',
      hooks: {
        edit: (m) => replaceRootKey(m, { ...K.root, json: { keytype: 'ecdsa-x509', keyval: { private: null, public: b64(Buffer.from(pem(leaf) + pemAs('X509 CERTIFICATE', validInt))) } } }),
      },
      expect: fail('ERR_ROOT_CERT_INVALID', 'root'),
    },
    'root-role-key-not-in-keys': {
      description: "roles.snapshot lists a key ID that root's keys do not hold",
      spec: '§2.3',
      hooks: { edit: (m) => m.root.signed.roles.snapshot.keyids.push('ab'.repeat(32)) },
      expect: fail('ERR_METADATA_INVALID', 'root'),
    },
    'root-bundle-valid-intermediate': c('the root key holds its leaf and a valid intermediate, signed under that key\'s ID', validInt, ok()),
    'root-bundle-expired-intermediate': c(
      'the root key holds its leaf and an expired intermediate, signed under that key\'s ID: the rebuilt key drops the intermediate, so its ID matches no signature',
      expiredInt, fail('ERR_THRESHOLD_NOT_MET', 'root'),
    ),
    'root-bundle-expired-intermediate-leaf-id': c(
      'as root-bundle-expired-intermediate, but signed under the ID of the leaf alone, which is what the rebuilt key is',
      expiredInt, ok(), asLeafOnly,
    ),
    'root-bundle-sha1-intermediate': c(
      'the root key holds its leaf and a SHA-1 intermediate, signed under that key\'s ID: the rebuilt key drops the intermediate',
      sha1Int, fail('ERR_THRESHOLD_NOT_MET', 'root'),
    ),
    'root-bundle-sha1-intermediate-leaf-id': c('as root-bundle-sha1-intermediate, signed under the ID of the leaf alone', sha1Int, ok(), asLeafOnly),
  };
}

function metaBoundaryCases() {
  const dropEntry = (name) => (meta) => { const { [name]: _drop, ...rest } = meta; return rest; };
  return {
    'delegation-length-zero-in-snapshot': {
      description: 'snapshot lists targets/releases with its hashes and length 0: a 0-byte cap the file exceeds',
      spec: '§7.4, §14.5',
      hooks: { snapshotMeta: (meta) => ({ ...meta, 'targets/releases': { ...meta['targets/releases'], length: 0 } }) },
      expect: fail('ERR_METADATA_TOO_LARGE', 'targets/releases'),
    },
    'delegation-length-zero-no-hashes': {
      description: 'snapshot lists targets/releases with no hashes and length 0 ("checksum unknown"): the role is skipped with its subtree',
      spec: '§7.8.3',
      hooks: { snapshotMeta: (meta) => ({ ...meta, 'targets/releases': { hashes: {}, length: 0 } }) },
      expect: ok({ docker: { v2: null, latest: { role: 'targets', digest: digestOf('latest in targets') } } }, { roles: ['targets', 'targets/a', 'targets/a/b', 'targets/c'] }),
    },
    'targets-length-zero-no-hashes': {
      description: 'snapshot lists the top-level targets with no hashes and length 0: only a delegation may be "checksum unknown" and skipped; for targets the snapshot itself is refused (no sha256 for targets)',
      spec: '§7.4, §7.8.3',
      hooks: { snapshotMeta: (meta) => ({ ...meta, targets: { hashes: {}, length: 0 } }) },
      expect: fail('ERR_METADATA_INVALID', 'snapshot'),
    },
    'root-longer-than-snapshot-length': {
      description: "the cached root.json is one byte longer than the length snapshot lists for root",
      spec: '§7.4, §7.5',
      hooks: { snapshotMeta: (meta) => ({ ...meta, root: { ...meta.root, length: meta.root.length - 1 } }) },
      expect: fail('ERR_METADATA_TOO_LARGE', 'root'),
    },
    'root-length-exact-in-snapshot': {
      description: 'snapshot lists root with exactly its length',
      spec: '§7.4, §7.5',
      expect: ok(),
    },
    'snapshot-without-targets-entry': {
      description: 'snapshot meta has no entry for targets',
      spec: '§2.5, §7.5',
      hooks: { snapshotMeta: dropEntry('targets') },
      expect: fail('ERR_METADATA_INVALID', 'snapshot'),
    },
    'snapshot-without-root-entry': {
      description: 'snapshot meta has no entry for root',
      spec: '§2.5, §7.5',
      hooks: { snapshotMeta: dropEntry('root') },
      expect: fail('ERR_METADATA_INVALID', 'snapshot'),
    },
    'timestamp-without-snapshot-entry': {
      description: 'timestamp meta has no entry for snapshot',
      spec: '§2.5, §7.5',
      hooks: { timestampMeta: dropEntry('snapshot') },
      expect: fail('ERR_METADATA_INVALID', 'timestamp'),
    },
  };
}

function failurePolicyCases() {
  const expiredA = { edit: (m) => (m['targets/a'].signed.expires = '2029-01-01T00:00:00Z') };
  const underThreshold = { edit: (m) => (m['targets/a'].signers = [K.other]) };
  const hashBroken = { snapshotMeta: (meta) => ({ ...meta, 'targets/a': { ...meta['targets/a'], hashes: { sha256: b64(sha('sha256', 'x')) } } }) };
  const dropped = { notary: { foo1: null, foobar1: null, deep: { role: 'targets/c', digest: digestOf('deep in c') }, latest: { role: 'targets', digest: digestOf('latest in targets') } } };
  return {
    'delegation-expired-strict': { description: 'targets/a expired: strict (notary offline) fails everything', spec: '§7.8.4, §7.9, §13.13', hooks: expiredA, expect: fail('ERR_METADATA_EXPIRED', 'targets/a') },
    'delegation-expired-online-equivalent': {
      description: 'targets/a expired: online-equivalent drops it and its subtree targets/a/b',
      spec: '§7.8.4, §13.13',
      mode: 'online-equivalent',
      hooks: expiredA,
      expect: ok(dropped, { skipped: [{ role: 'targets/a', code: 'ERR_METADATA_EXPIRED' }], roles: ['targets', 'targets/releases', 'targets/c'] }),
    },
    'delegation-threshold-strict': { description: 'targets/a signed by a key it does not list: strict fails', spec: '§7.8.4, §13.13', hooks: underThreshold, expect: fail('ERR_THRESHOLD_NOT_MET', 'targets/a') },
    'delegation-threshold-online-equivalent': {
      description: 'targets/a under threshold: online-equivalent drops it and its subtree',
      spec: '§7.8.4, §13.13',
      mode: 'online-equivalent',
      hooks: underThreshold,
      expect: ok(dropped, { skipped: [{ role: 'targets/a', code: 'ERR_THRESHOLD_NOT_MET' }], roles: ['targets', 'targets/releases', 'targets/c'] }),
    },
    'delegation-hash-online-equivalent': {
      description: 'targets/a hash mismatch: fatal even online-equivalent (only expiry and threshold are droppable)',
      spec: '§7.8.4, §13.13',
      mode: 'online-equivalent',
      hooks: hashBroken,
      expect: fail('ERR_HASH_MISMATCH', 'targets/a'),
    },
    'top-targets-expired-online-equivalent': {
      description: 'the top-level targets role expired: fatal in every mode',
      spec: '§7.8.4',
      mode: 'online-equivalent',
      hooks: { edit: (m) => (m.targets.signed.expires = '2029-01-01T00:00:00Z') },
      expect: fail('ERR_METADATA_EXPIRED', 'targets'),
    },
  };
}


// ---------- write or check ----------
const ROLE_FILE = (role) => `${role}.json`;
let drift = 0;
const seen = new Set();
for (const [id, c] of Object.entries(cases)) {
  const files = build(c.hooks ?? {});
  const dir = join(ROOT, id);
  seen.add(id);
  const want = new Map();
  for (const [role, buf] of Object.entries(files)) want.set(join('metadata', ROLE_FILE(role)), buf);
  // `trustedRoot: true` trusts the base root; hooks build another trusted root (version 1).
  if (c.trustedRoot) want.set('trusted-root.json', build(c.trustedRoot === true ? {} : c.trustedRoot).root);
  // The caller's intermediate roots, in the order the case passes them.
  const inter = (c.intermediateRoots ?? []).map((h, i) => [`intermediate-roots/${i}.root.json`, build(h).root]);
  for (const [rel, buf] of inter) want.set(rel, buf);
  const caseJson = {
    description: c.description, spec: c.spec, gun: GUN, now: NOW, mode: c.mode ?? 'strict',
    ...(c.trustedRoot ? { trusted_root: 'trusted-root.json' } : {}),
    ...(inter.length > 0 ? { intermediate_roots: inter.map(([rel]) => rel) } : {}),
    ...(c.pins ? { pins: c.pins } : {}), expect: c.expect,
  };
  want.set('case.json', Buffer.from(`${JSON.stringify(caseJson, null, 2)}\n`));
  if (CHECK) {
    for (const [rel, buf] of want) {
      const p = join(dir, rel);
      if (!existsSync(p) || !readFileSync(p).equals(buf)) {
        drift++;
        console.error(`drift: ${id}/${rel}`);
      }
    }
  } else {
    rmSync(dir, { recursive: true, force: true });
    for (const [rel, buf] of want) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), buf);
    }
  }
}
if (CHECK) {
  for (const d of readdirSync(ROOT)) if (d !== 'keys' && d !== 'README.md' && !seen.has(d)) { drift++; console.error(`stale case folder: ${d}`); }
  if (drift > 0) {
    console.error(`${drift} file(s) differ from a fresh generation`);
    process.exit(1);
  }
  console.log(`${seen.size} cases match a fresh generation byte for byte`);
} else {
  console.log(`wrote ${seen.size} cases to ${ROOT}`);
}
