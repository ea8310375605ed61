/**
 * Metadata shapes as Go's typed decoder reads them (notary-rules.md §2, §14.1): a case variant of
 * a field name at every level where Go would merge it (the Kelvin sign and the long s included),
 * a document of another role, and each shape mismatch named in plain words.
 */
import { describe, expect, it } from 'vitest';
import { fileMetaProblem, parseEnvelope, parseSigned, parseWith, rootSignedSchema, snapshotSignedSchema, targetsSignedSchema } from '../../src/tuf/schema.js';
import type { JsonObject } from '../../src/json/strict-parse.js';

const key = { keytype: 'ecdsa', keyval: { private: null, public: 'AA==' } };
const root = () => ({ _type: 'Root', expires: '2030-01-01T00:00:00Z', version: 1, consistent_snapshot: false, keys: { k: structuredClone(key) }, roles: { root: { keyids: ['k'], threshold: 1 } } });
const targets = () => ({
  _type: 'Targets',
  expires: '2030-01-01T00:00:00Z',
  version: 1,
  targets: { t: { hashes: { sha256: 'AA==' }, length: 1 } },
  delegations: { keys: { k: structuredClone(key) }, roles: [{ name: 'targets/a', keyids: ['k'], threshold: 1, paths: [''] }] },
});
const snapshot = () => ({ _type: 'Snapshot', expires: '2030-01-01T00:00:00Z', version: 1, meta: { root: { hashes: { sha256: 'AA==' }, length: 1 } } });
type Kind = 'root' | 'targets' | 'snapshot';
const schemaOf = { root: rootSignedSchema, targets: targetsSignedSchema, snapshot: snapshotSignedSchema } as const;
const read = (kind: 'root' | 'targets' | 'snapshot', signed: object, role: string = kind) => parseSigned(schemaOf[kind] as never, signed as JsonObject, kind, `${role}.json`, role);
const rename = (o: Record<string, unknown>, from: string, to: string) => {
  const v = o[from];
  delete o[from];
  o[to] = v;
};

describe('parseSigned: case variants Go would merge', () => {
  type Edit = [string, 'root' | 'targets' | 'snapshot', (s: any) => void, string, string];
  const edits: Edit[] = [
    ['root member', 'root', (s) => rename(s, 'keys', 'Keys'), 'Keys', 'keys'],
    ['root member, upper case', 'root', (s) => rename(s, 'version', 'VERSION'), 'VERSION', 'version'],
    ['root member beside the field', 'root', (s) => (s.Consistent_Snapshot = true), 'Consistent_Snapshot', 'consistent_snapshot'],
    ['key', 'root', (s) => rename(s.keys.k, 'keytype', 'KeyType'), 'KeyType', 'keytype'],
    ['keyval', 'root', (s) => rename(s.keys.k.keyval, 'public', 'Public'), 'Public', 'public'],
    ['root role', 'root', (s) => rename(s.roles.root, 'threshold', 'Threshold'), 'Threshold', 'threshold'],
    ['the Kelvin sign (U+212A folds to k)', 'root', (s) => rename(s, 'keys', '\u212aeys'), '\u212aeys', 'keys'],
    ['targets member', 'targets', (s) => rename(s, 'delegations', 'Delegations'), 'Delegations', 'delegations'],
    ['delegations', 'targets', (s) => rename(s.delegations, 'roles', 'Roles'), 'Roles', 'roles'],
    ['delegation key', 'targets', (s) => rename(s.delegations.keys.k, 'keyval', 'KeyVal'), 'KeyVal', 'keyval'],
    ['delegation keyval', 'targets', (s) => (s.delegations.keys.k.keyval.Private = null), 'Private', 'private'],
    ['delegation role', 'targets', (s) => rename(s.delegations.roles[0], 'paths', 'Paths'), 'Paths', 'paths'],
    ['delegation role, removed field', 'targets', (s) => (s.delegations.roles[0].Path_Hash_Prefixes = []), 'Path_Hash_Prefixes', 'path_hash_prefixes'],
    ['snapshot member', 'snapshot', (s) => rename(s, 'meta', 'Meta'), 'Meta', 'meta'],
    ['the long s (U+017F folds to s)', 'snapshot', (s) => (s['_typeſ'] = 1, rename(s, 'expires', 'expireſ')), 'expire\u017f', 'expires'],
  ];
  it.each(edits)('%s', (_, kind, edit, variant, field) => {
    const s = { root, targets, snapshot }[kind]();
    expect(() => read(kind, s)).not.toThrow();
    edit(s);
    expect(() => read(kind, s)).toThrow(
      expect.objectContaining({
        code: 'ERR_METADATA_MALFORMED',
        role: kind,
        check: 'json members',
        message: `${kind}.json: member ${JSON.stringify(variant)} is a case variant of ${JSON.stringify(field)}, which Go's decoder would merge into it`,
      }),
    );
  });
  // Every field of every struct Notary's Go decoder reads (tuf/data: Signed, Signature, Root,
  // Targets, Snapshot, PublicKey, KeyPair, RootRole, Delegations, Role, FileMeta), written out
  // here rather than read from the code: an upper-cased copy beside the field must be refused.
  type Where = [kind: Kind, object: string, get: (s: any) => Record<string, unknown>, fields: string[]];
  const everyField: Where[] = [
    ['root', 'root', (s) => s, ['_type', 'expires', 'version', 'consistent_snapshot', 'keys', 'roles']],
    ['root', 'key', (s) => s.keys.k, ['keytype', 'keyval']],
    ['root', 'keyval', (s) => s.keys.k.keyval, ['private', 'public']],
    ['root', 'root role', (s) => s.roles.root, ['keyids', 'threshold']],
    ['targets', 'targets', (s) => s, ['_type', 'expires', 'version', 'targets', 'delegations']],
    ['targets', 'delegations', (s) => s.delegations, ['keys', 'roles']],
    ['targets', 'delegation key', (s) => s.delegations.keys.k, ['keytype', 'keyval']],
    ['targets', 'delegation role', (s) => s.delegations.roles[0], ['name', 'keyids', 'threshold', 'paths', 'path_hash_prefixes']],
    ['targets', 'target FileMeta', (s) => s.targets.t, ['length', 'hashes', 'custom']],
    ['snapshot', 'snapshot', (s) => s, ['_type', 'expires', 'version', 'meta']],
    ['snapshot', 'snapshot FileMeta', (s) => s.meta.root, ['length', 'hashes', 'custom']],
  ];
  it.each(everyField.flatMap(([kind, object, get, fields]) => fields.map((f) => [kind, object, get, f] as const)))('%s: %s field %s, upper-cased beside it', (kind, _, get, field) => {
    const s = { root, targets, snapshot }[kind]();
    const o = get(s);
    o[field.toUpperCase()] = o[field] ?? null;
    expect(() => read(kind, s)).toThrow(expect.objectContaining({ code: 'ERR_METADATA_MALFORMED', message: expect.stringContaining(`member ${JSON.stringify(field.toUpperCase())} is a case variant of ${JSON.stringify(field)}`) }));
  });
  it.each([
    ['signed', { signed: {}, signatures: [], SIGNED: {} }],
    ['signatures', { signed: {}, signatures: [], SIGNATURES: [] }],
    ['keyid', { signed: {}, signatures: [{ keyid: 'a', KEYID: 'a', method: 'ecdsa', sig: 'AA==' }] }],
    ['method', { signed: {}, signatures: [{ keyid: 'a', method: 'ecdsa', METHOD: 'ecdsa', sig: 'AA==' }] }],
    ['sig', { signed: {}, signatures: [{ keyid: 'a', method: 'ecdsa', sig: 'AA==', SIG: 'AA==' }] }],
  ])('envelope field %s, upper-cased beside it', (field, doc) => {
    expect(() => parseEnvelope(doc, 'x.json', 'root')).toThrow(`x.json: member ${JSON.stringify(field.toUpperCase())} is a case variant of ${JSON.stringify(field)}`);
  });

  it('a target FileMeta with a case variant, and unknown members that are no variant, which Go ignores', () => {
    const s = targets() as any;
    s.targets.t.Length = 1;
    expect(() => read('targets', s)).toThrow(expect.objectContaining({ code: 'ERR_METADATA_MALFORMED', message: expect.stringContaining('"Length" is a case variant of "length"') }));
    const ok = root() as any;
    ok.extra = 1;
    ok.keys.k.other = 1;
    ok.roles.root.x = 1;
    expect(() => read('root', ok)).not.toThrow();
    const d = targets() as any;
    d.delegations = null;
    expect(() => read('targets', d)).toThrow(expect.objectContaining({ code: 'ERR_METADATA_MALFORMED', check: 'metadata types' }));
    const r = targets() as any;
    r.delegations.roles = null;
    r.delegations.keys = null;
    expect(() => read('targets', r)).not.toThrow();
  });
});

describe('parseSigned: a document of another role', () => {
  it.each([
    ['root', 'Snapshot', 'root', 'root.json is a snapshot document (_type "Snapshot"), not a root', 'Root'],
    ['targets', 'Root', 'targets/a', 'targets/a.json is a root document (_type "Root"), not a targets', 'Targets'],
    ['snapshot', 'Timestamp', 'snapshot', 'snapshot.json is a timestamp document (_type "Timestamp"), not a snapshot', 'Snapshot'],
    ['snapshot', 'Snapshot', 'timestamp', 'timestamp.json is a snapshot document (_type "Snapshot"), not a timestamp', 'Timestamp'],
  ] as const)('%s read from a %s file as %s', (kind, type, role, message, expected) => {
    const s = { ...{ root, targets, snapshot }[kind](), _type: type };
    expect(() => read(kind, s, role)).toThrow(expect.objectContaining({ code: 'ERR_METADATA_INVALID', role, check: '_type', message, expected, actual: type }));
  });
  it('the timestamp read with the snapshot shape, and _type values no role has, are left to checkType', () => {
    expect(() => read('snapshot', { ...snapshot(), _type: 'Timestamp' }, 'timestamp')).not.toThrow();
    for (const t of ['root', 'Other', 'toString', '__proto__']) expect(() => read('root', { ...root(), _type: t })).not.toThrow();
  });
});

describe('shape mismatches in plain words', () => {
  const rows: [Kind, (s: any) => unknown, string | null][] = [
    ['root', (s: any) => (s.version = '1'), 'root.json: signed.version must be an integer, not the string "1"'],
    ['root', (s: any) => delete s.keys, 'root.json: signed.keys is missing'],
    ['root', (s: any) => (s.consistent_snapshot = 1), 'root.json: signed.consistent_snapshot must be true or false, not the number 1'],
    ['root', (s: any) => (s.roles.root.keyids = 'k'), 'root.json: signed.roles.root.keyids must be an array, not the string "k"'],
    ['root', (s: any) => (s.keys.k.keyval.private = 'AA=='), 'root.json: signed.keys.k.keyval.private must be null, not the string "AA=="'],
    ['root', (s: any) => (s.keys.k.keyval.public = 'AB=='), 'root.json: signed.keys.k.keyval.public: expected canonical standard base64'],
    ['root', (s: any) => (s.expires = null), 'root.json: signed.expires must be a string, not null'],
    ['root', (s: any) => (s.roles.root = []), 'root.json: signed.roles.root must be an object, not an array'],
    ['root', (s: any) => (s.version = 1.5), 'root.json: signed.version must be an integer, not the non-integer 1.5'],
    ['root', (s: any) => (s.expires = 'x'.repeat(41)), null],
    ['root', (s: any) => (s.keys = { k: { keytype: true, keyval: key.keyval } }), 'root.json: signed.keys.k.keytype must be a string, not true'],
    ['snapshot', (s: any) => (s.meta = []), 'snapshot.json: signed.meta: expected an object of file metadata'],
    ['snapshot', (s: any) => (s.meta.root.length = -1), 'snapshot.json: signed.meta: "root": length: expected a non-negative integer'],
    ['snapshot', (s: any) => (s.meta.root.hashes = null), 'snapshot.json: signed.meta: "root": hashes: expected an object'],
    ['snapshot', (s: any) => (s.meta.root.hashes.sha512 = 'A'), 'snapshot.json: signed.meta: "root": hashes.sha512: expected canonical standard base64'],
    ['targets', (s: any) => (s.targets.t = 1), 'targets.json: signed.targets: "t": expected an object with length and hashes'],
    ['targets', (s: any) => (s.delegations.roles[0].paths = [1]), 'targets.json: signed.delegations.roles.0.paths.0 must be a string, not the number 1'],
  ];
  it.each(rows)('%s: %s', (kind, edit, message) => {
    const s = { root, targets, snapshot }[kind]();
    edit(s);
    if (message === null) {
      expect(() => read(kind, s)).not.toThrow();
      return;
    }
    expect(() => read(kind, s)).toThrow(expect.objectContaining({ code: 'ERR_METADATA_MALFORMED', role: kind, check: 'metadata types', message }));
  });
  it('long strings are cut at 40 characters; a value of the wrong kind at the top is "the document"', () => {
    const s = root() as any;
    s.version = 'y'.repeat(41);
    expect(() => read('root', s)).toThrow(`root.json: signed.version must be an integer, not the string "${'y'.repeat(40)}…"`);
    s.version = 'y'.repeat(40);
    expect(() => read('root', s)).toThrow(`root.json: signed.version must be an integer, not the string "${'y'.repeat(40)}"`);
    expect(() => parseWith(rootSignedSchema, 7, 'root.json', 'root')).toThrow('root.json: the document must be an object, not the number 7');
    expect(() => parseWith(rootSignedSchema, 7, 'root.json', 'root', 'signed.')).toThrow('root.json: signed must be an object, not the number 7');
    expect(() => parseWith(rootSignedSchema, 'x', 'root.json', 'root', 'signed.')).toThrow('root.json: signed must be an object, not the string "x"');
  });
  it('returns the input itself, so a __proto__ member stays data', () => {
    const s = JSON.parse('{"_type":"Snapshot","expires":"e","version":1,"meta":{"__proto__":{"hashes":{},"length":0}}}');
    expect(read('snapshot', s)).toBe(s);
  });
});

describe('parseEnvelope and fileMetaProblem', () => {
  it('the envelope: case variants, signatures null or missing fields, methods lower-cased', () => {
    expect(parseEnvelope({ signed: {}, signatures: null }, 'x.json', 'root')).toEqual({ signed: {}, signatures: [] });
    expect(parseEnvelope({ signed: {}, signatures: [{ keyid: 'a', method: 'ECDSA', sig: 'AA==' }] }, 'x.json', 'root').signatures).toEqual([{ keyid: 'a', method: 'ecdsa', sig: 'AA==' }]);
    expect(() => parseEnvelope({ signed: {}, signatures: [], Signed: {} }, 'x.json', 'root')).toThrow(expect.objectContaining({ code: 'ERR_METADATA_MALFORMED', check: 'json members', role: 'root' }));
    expect(() => parseEnvelope({ signed: {}, signatures: [{ keyid: 'a', KeyID: 'b', method: 'ecdsa', sig: 'AA==' }] }, 'x.json', 'root')).toThrow(
      'x.json: member "KeyID" is a case variant of "keyid"',
    );
    expect(() => parseEnvelope({ signed: {}, signatures: [{ keyid: 'a', method: 'ecdsa', ſig: 'AA==', sig: 'AA==' }] }, 'x.json', 'root')).toThrow('case variant of "sig"');
    expect(() => parseEnvelope({ signed: {}, signatures: [{ keyid: 'a', method: 'ecdsa', sig: 'YR==' }] }, 'x.json', 'root')).toThrow('x.json: signatures.0.sig: expected canonical standard base64');
    expect(() => parseEnvelope({ signed: [], signatures: [] }, 'x.json', 'root')).toThrow(expect.objectContaining({ check: 'metadata types' }));
    expect(() => parseEnvelope({ signed: {} }, 'x.json', 'root')).toThrow('x.json: signatures is missing');
    expect(() => parseEnvelope(null, 'x.json', 'root')).toThrow(expect.objectContaining({ code: 'ERR_METADATA_MALFORMED' }));
  });
  it.each([
    [{ hashes: {}, length: 0 }, undefined],
    [{ hashes: { md5: 'AA==' }, length: 9007199254740991, custom: { a: 1 } }, undefined],
    [{ hashes: {}, length: 9007199254740992 }, 'length: expected a non-negative integer'],
    [{ hashes: {}, length: 1.5 }, 'length: expected a non-negative integer'],
    [{ hashes: {}, length: '1' }, 'length: expected a non-negative integer'],
    [{ hashes: {}, length: -1 }, 'length: expected a non-negative integer'],
    [{ hashes: [], length: 1 }, 'hashes: expected an object'],
    [{ hashes: 'x', length: 1 }, 'hashes: expected an object'],
    [{ hashes: { sha256: 1 }, length: 1 }, 'hashes.sha256: expected canonical standard base64'],
    [{ hashes: {}, length: 1, LENGTH: 1 }, 'member "LENGTH" is a case variant of "length", which Go\'s decoder would merge into it'],
    [{ hashes: {}, length: 1, Custom: 1 }, 'member "Custom" is a case variant of "custom", which Go\'s decoder would merge into it'],
    [{ hashes: {}, length: 1, other: 1 }, undefined],
    [null, 'expected an object with length and hashes'],
    [[], 'expected an object with length and hashes'],
    ['x', 'expected an object with length and hashes'],
  ])('%j: %s', (v, want) => {
    expect(fileMetaProblem(v)).toBe(want);
  });
});
