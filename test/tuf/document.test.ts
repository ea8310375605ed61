/**
 * One metadata file read once (notary-rules.md §2.2, §4.1, §7.11): the signature-count cap at its
 * exact edge, parse errors that name the role, `_type` per role, the version floor, strict
 * `expires` and the expiry instant, and the message — raw bytes when canonical, else re-encoded.
 */
import { describe, expect, it } from 'vitest';
import { checkExpiry, checkType, checkVersion, parseExpires, readDocument, TARGETS_OPAQUE_PATH } from '../../src/tuf/document.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const sig = (i: number) => ({ keyid: `k${i}`, method: 'ECDSA', sig: 'AA==' });
const file = (signed: string, n = 0) => bytes(`{"signed":${signed},"signatures":${JSON.stringify(Array.from({ length: n }, (_, i) => sig(i)))}}`);
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

describe('readDocument', () => {
  it('the signature cap: exactly the limit passes, one more is ERR_METADATA_TOO_LARGE', () => {
    expect(readDocument(file('{}', 3), 'root', { maxDepth: 64, maxSignatures: 3 }).envelope.signatures).toHaveLength(3);
    expect(() => readDocument(file('{}', 4), 'root', { maxDepth: 64, maxSignatures: 3 })).toThrow(
      expect.objectContaining({ code: 'ERR_METADATA_TOO_LARGE', role: 'root', check: 'signature count', expected: 3, actual: 4 }),
    );
    expect(() => readDocument(file('{}', 1), 'root', { maxDepth: 64, maxSignatures: 0 })).toThrow(expect.objectContaining({ code: 'ERR_METADATA_TOO_LARGE' }));
    expect(readDocument(file('{}', 0), 'root', { maxDepth: 64, maxSignatures: 0 }).envelope.signatures).toEqual([]);
    expect(readDocument(file('{}', 50), 'root').envelope.signatures).toHaveLength(50);
  });

  it('lower-cases the method, as Notary does', () => {
    expect(readDocument(file('{}', 1), 'timestamp').envelope.signatures[0]?.method).toBe('ecdsa');
  });

  it('a parse error names the role, the file and the check', () => {
    expect(() => readDocument(bytes('{"signed":{},"signed":{}}'), 'snapshot')).toThrow(
      expect.objectContaining({ code: 'ERR_METADATA_MALFORMED', role: 'snapshot', check: 'json syntax', path: 'snapshot.json' }),
    );
    expect(() => readDocument(bytes('[' + '['.repeat(10) + ']'.repeat(11)), 'root', { maxDepth: 5 })).toThrow(
      expect.objectContaining({ code: 'ERR_METADATA_MALFORMED', role: 'root', path: 'root.json' }),
    );
  });

  it('the message: the stored bytes when canonical, the canonical encoding otherwise', () => {
    const canonical = file('{"a":"<","b":[1,2]}');
    const d = readDocument(canonical, 'targets');
    expect(text(d.message())).toBe('{"a":"<","b":[1,2]}');
    expect(d.message().buffer).toBe(canonical.buffer); // a view of the file, not a copy
    expect(d.message()).toBe(d.message());
    expect(text(readDocument(file('{ "b":[1, 2],"a":"\\u003c" }'), 'targets').message())).toBe('{"a":"<","b":[1,2]}');
    expect(d.file).toBe('targets.json');
    expect(d.role).toBe('targets');
    expect(d.bytes).toBe(canonical);
  });

  it('indexes `targets` of a canonical file when asked, and the message is still the whole span', () => {
    const b = file('{"targets":{"a":{"length":1},"b":{"length":2}},"version":1}');
    const d = readDocument(b, 'targets', { maxDepth: 64, indexed: 'targets' });
    expect(d.indexed?.count).toBe(2);
    expect(d.envelope.signed['targets']).toEqual({});
    expect(text(d.message())).toBe('{"targets":{"a":{"length":1},"b":{"length":2}},"version":1}');
    expect(readDocument(b, 'targets').indexed).toBeUndefined();
  });

  it('reads opaque numbers in a target custom only with the opaque path', () => {
    const b = file('{"targets":{"a":{"custom":{"n":1.0},"length":1}}}');
    expect(text(readDocument(b, 'targets', { maxDepth: 64, opaquePath: TARGETS_OPAQUE_PATH }).message())).toBe('{"targets":{"a":{"custom":{"n":1},"length":1}}}');
    expect(() => readDocument(b, 'targets')).toThrow(expect.objectContaining({ code: 'ERR_METADATA_MALFORMED', role: 'targets' }));
    expect(TARGETS_OPAQUE_PATH).toEqual(['signed', 'targets', '*', 'custom']);
    expect(Object.isFrozen(TARGETS_OPAQUE_PATH)).toBe(true);
  });
});

describe('checkType', () => {
  it.each([
    ['root', 'Root'],
    ['targets', 'Targets'],
    ['snapshot', 'Snapshot'],
    ['timestamp', 'Timestamp'],
    ['targets/releases', 'Targets'],
    ['toString', 'Targets'],
    ['__proto__', 'Targets'],
    ['constructor', 'Targets'],
  ])('%s wants %s, and nothing else', (role, want) => {
    expect(() => checkType(want, role)).not.toThrow();
    for (const other of ['Root', 'Targets', 'Snapshot', 'Timestamp', 'root', want.toLowerCase(), '', 'object']) {
      if (other === want) continue;
      expect(() => checkType(other, role), other).toThrow(expect.objectContaining({ code: 'ERR_METADATA_INVALID', role, check: '_type', expected: want, actual: other }));
    }
  });
});

describe('checkVersion, parseExpires, checkExpiry', () => {
  it('version 1 and up pass; 0 and below are invalid', () => {
    expect(() => checkVersion(1, 'root')).not.toThrow();
    expect(() => checkVersion(2, 'root')).not.toThrow();
    for (const v of [0, -1]) {
      expect(() => checkVersion(v, 'root')).toThrow(expect.objectContaining({ code: 'ERR_METADATA_INVALID', role: 'root', check: 'version', expected: 1, actual: v }));
    }
  });
  it('expires is strict RFC 3339', () => {
    expect(parseExpires('2030-01-01T00:00:00Z', 'snapshot')).toBe(Date.parse('2030-01-01T00:00:00Z'));
    expect(() => parseExpires('2030-01-01', 'snapshot')).toThrow(
      expect.objectContaining({ code: 'ERR_METADATA_INVALID', role: 'snapshot', check: 'expires format', actual: '2030-01-01' }),
    );
  });
  it('valid up to and including the instant, expired one millisecond after', () => {
    const t = Date.parse('2030-01-01T00:00:00Z');
    expect(() => checkExpiry(t, '2030-01-01T00:00:00Z', 'timestamp', new Date(t))).not.toThrow();
    expect(() => checkExpiry(t, '2030-01-01T00:00:00Z', 'timestamp', new Date(t + 1))).toThrow(
      expect.objectContaining({ code: 'ERR_METADATA_EXPIRED', role: 'timestamp', check: 'expiry', actual: '2030-01-01T00:00:00Z' }),
    );
  });
});
