// The peer: the same targets as TUF-spec metadata (spec_version 1.0, Ed25519 keys, hex
// signatures, the models' own canonical JSON), loaded and verified with @tufjs/models the way a
// TUF client's trusted-metadata set does it: parse, fromJSON, hash check against the referrer,
// verifyDelegate by the parent, expiry.
import { createHash, createPrivateKey, createPublicKey, sign as nodeSign } from 'node:crypto';
import { Metadata, MetadataKind } from '@tufjs/models';
import { canonicalBytes } from '../dist/index.js';
import { distribution } from './repo.mjs';
import { SEED } from './repo.mjs';

const EXPIRES = '2035-01-01T00:00:00Z';
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

function edKey(label) {
  const seed = createHash('sha256').update(`${SEED} tuf key ${label}`).digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const raw = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(-32);
  const json = { keytype: 'ed25519', keyval: { public: raw.toString('hex') }, scheme: 'ed25519' };
  // Sorted-key JSON of a flat key object is its canonical form.
  const id = createHash('sha256')
    .update(`{"keytype":"ed25519","keyval":{"public":"${json.keyval.public}"},"scheme":"ed25519"}`)
    .digest('hex');
  return { id, json, privateKey };
}

const ROLE_PATHS = {
  'targets/releases': ['r*'],
  'targets/a': ['foo-*'],
  'targets/a/b': ['foobar-*'],
  'targets/c': ['c*'],
};
const PREFIX = { targets: 'v', 'targets/releases': 'r', 'targets/a': 'foo-', 'targets/a/b': 'foobar-', 'targets/c': 'c' };
const PARENT = { targets: 'root', 'targets/releases': 'targets', 'targets/a': 'targets', 'targets/a/b': 'targets/a', 'targets/c': 'targets' };

const fileMetaOf = (content) => ({
  length: Buffer.byteLength(content),
  hashes: { sha256: createHash('sha256').update(content).digest('hex') },
});
const metaOf = (bytes, version) => ({
  version,
  length: bytes.length,
  hashes: {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    sha512: createHash('sha512').update(bytes).digest('hex'),
  },
});

/**
 * Signs the canonical JSON of `signed` and writes the file. Building through the models'
 * `Metadata.sign` would be quadratic in the targets count (its toJSON/fromJSON rebuild the map
 * with object spread), so generation encodes with trustgate's canonical JSON, which is the same
 * bytes for this data (ASCII strings, integers); verification below goes through the models'
 * own canonicalisation, so a difference would fail the run.
 */
function signedFile(signed, key) {
  const sig = nodeSign(null, canonicalBytes(signed), key.privateKey).toString('hex');
  return Buffer.from(JSON.stringify({ signed, signatures: [{ keyid: key.id, sig }] }));
}

/** `{ role: Buffer }` in TUF-spec form with the same target names and contents as the Notary repo. */
export function generateTufRepo(n) {
  const K = Object.fromEntries(['root', 'timestamp', 'snapshot', 'targets', 'targets/releases', 'targets/a', 'targets/a/b', 'targets/c'].map((r) => [r, edKey(r)]));
  const counts = distribution(n);
  const targets = {};
  for (const [role, count] of Object.entries(counts)) {
    const t = {};
    for (let i = 0; i < count; i++) {
      const h = createHash('sha256').update(`${SEED}\u0000${role}\u0000${i}`).digest('hex');
      t[`${PREFIX[role]}${i}-${h.slice(0, 8)}`] = fileMetaOf(`manifest ${h}`);
    }
    targets[role] = t;
  }
  const delegation = (names) => ({
    keys: Object.fromEntries(names.map((r) => [K[r].id, K[r].json])),
    roles: names.map((r) => ({ name: r, keyids: [K[r].id], threshold: 1, terminating: false, paths: ROLE_PATHS[r] })),
  });
  const base = (type, version) => ({ _type: type, spec_version: '1.0.31', version, expires: EXPIRES });
  const files = {};
  const role1 = (r) => ({ keyids: [K[r].id], threshold: 1 });
  files.root = signedFile({
    ...base('root', 1),
    consistent_snapshot: false,
    keys: Object.fromEntries(['root', 'timestamp', 'snapshot', 'targets'].map((r) => [K[r].id, K[r].json])),
    roles: { root: role1('root'), timestamp: role1('timestamp'), snapshot: role1('snapshot'), targets: role1('targets') },
  }, K.root);
  const children = { targets: ['targets/releases', 'targets/a', 'targets/c'], 'targets/a': ['targets/a/b'] };
  for (const role of Object.keys(counts)) {
    const signed = { ...base('targets', 1), targets: targets[role] };
    if (children[role]) signed.delegations = delegation(children[role]);
    files[role] = signedFile(signed, K[role]);
  }
  const meta = Object.fromEntries(Object.keys(counts).map((r) => [`${r}.json`, metaOf(files[r], 1)]));
  files.snapshot = signedFile({ ...base('snapshot', 1), meta }, K.snapshot);
  files.timestamp = signedFile({ ...base('timestamp', 1), meta: { 'snapshot.json': metaOf(files.snapshot, 1) } }, K.timestamp);
  return files;
}

function notExpired(md, now) {
  if (md.signed.isExpired(now)) throw new Error(`${md.signed.type} expired`);
}

/** Loads the whole chain; returns the number of targets seen. Throws on any failure. */
export function verifyTufRepo(files, now) {
  const root = Metadata.fromJSON(MetadataKind.Root, JSON.parse(files.root.toString('utf8')));
  root.verifyDelegate('root', root);
  notExpired(root, now);
  const ts = Metadata.fromJSON(MetadataKind.Timestamp, JSON.parse(files.timestamp.toString('utf8')));
  root.verifyDelegate('timestamp', ts);
  notExpired(ts, now);
  ts.signed.snapshotMeta.verify(files.snapshot);
  const sn = Metadata.fromJSON(MetadataKind.Snapshot, JSON.parse(files.snapshot.toString('utf8')));
  root.verifyDelegate('snapshot', sn);
  notExpired(sn, now);
  const loaded = { root };
  let count = 0;
  for (const role of ['targets', 'targets/releases', 'targets/a', 'targets/a/b', 'targets/c']) {
    sn.signed.meta[`${role}.json`].verify(files[role]);
    const md = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(files[role].toString('utf8')));
    loaded[PARENT[role]].verifyDelegate(role, md);
    notExpired(md, now);
    loaded[role] = md;
    count += Object.keys(md.signed.targets).length;
  }
  return count;
}
