/**
 * The DER reader behind Notary's certificate policy (notary-rules.md §6 step 3): certificates
 * built byte by byte (scripts/lib/notary-writer.mjs), each length form and time form at its edge,
 * every extension Go's parser handles, and malformed DER, which must throw and never read on.
 * Real certificates are also read by node:crypto's X509Certificate, an independent parser.
 */
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readCertFacts } from '../../src/crypto/der.js';

/** The DER reader's own refusal (its callers turn it into a TrustError), never a TypeError or RangeError from a bad index. */
function expectDerRefusal(f: () => unknown, label?: string): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect((caught as Error | undefined)?.constructor.name, label).toBe('DerError');
}
// @ts-expect-error untyped mjs
import { bool, ecKey, int, makeCert, name, octet, oid, seq, set, tlv, utf8str, SIG_ALGS, time } from '../../scripts/lib/notary-writer.mjs';

type B = Buffer;
const key = ecKey('der-test');
const buf = (...b: number[]) => Buffer.from(b);

/** A certificate with every part replaceable; the signature is junk (the reader never checks it). */
function cert(p: { version?: boolean; alg?: B; validity?: B; subject?: B; exts?: B[] | undefined; extWrapper?: B; trailer?: B[] } = {}): Uint8Array {
  const exts = p.exts === undefined ? [] : [p.extWrapper ?? tlv(0xa3, seq(...p.exts))];
  const tbs = seq(
    ...(p.version === false ? [] : [tlv(0xa0, int(buf(2)))]),
    int(buf(1)),
    p.alg ?? SIG_ALGS['ecdsa-sha256'],
    name('issuer'),
    p.validity ?? seq(time('2030-01-01T00:00:00Z'), time('2031-01-01T00:00:00Z')),
    p.subject ?? name('example.com/a'),
    key.spki,
    ...(p.trailer ?? []),
    ...exts,
  );
  return new Uint8Array(seq(tbs, p.alg ?? SIG_ALGS['ecdsa-sha256'], tlv(0x03, buf(0, 1, 2))));
}
const ext = (id: string, critical: boolean | undefined, value: B) => seq(oid(id), ...(critical === undefined ? [] : [bool(critical)]), octet(value));
const utc = (s: string) => tlv(0x17, Buffer.from(s, 'latin1'));
const gen = (s: string) => tlv(0x18, Buffer.from(s, 'latin1'));

describe('readCertFacts on real certificates (against X509Certificate)', () => {
  const windows: [string, string][] = [
    ['2020-01-01T00:00:00Z', '2040-01-01T00:00:00Z'],
    ['1950-01-01T00:00:00Z', '2049-12-31T23:59:59Z'], // the UTCTime edges: 50 → 1950, 49 → 2049
    ['1949-12-31T23:59:59Z', '2050-01-01T00:00:00Z'], // GeneralizedTime just outside them
    ['2001-02-03T04:05:06Z', '9999-12-31T23:59:59Z'],
  ];
  it.each(windows)('validity %s – %s, CN and algorithm', (notBefore, notAfter) => {
    const der = makeCert({ cn: 'example.com/x/y', subjectKey: key, notBefore, notAfter });
    const x = new X509Certificate(der);
    const f = readCertFacts(new Uint8Array(der));
    expect(f.notBefore.toISOString()).toBe(new Date(x.validFrom).toISOString());
    expect(f.notAfter.toISOString()).toBe(new Date(x.validTo).toISOString());
    expect(f.notBefore.getTime()).toBe(Date.parse(notBefore));
    expect(f.notAfter.getTime()).toBe(Date.parse(notAfter));
    expect(f.commonName).toBe('example.com/x/y');
    expect(x.subject).toBe('CN=example.com/x/y');
    expect(f.signatureAlgorithm).toBe('1.2.840.10045.4.3.2');
    expect(f).toMatchObject({ maxPathLen: -1, nameConstraints: false, subjectAltName: false, unhandledCritical: [] });
  });

  it('an RSA certificate (its algorithm ends in a NULL, a node of two bytes at the very end of its container)', () => {
    expect(readCertFacts(cert({ alg: SIG_ALGS['rsa-sha256'] })).signatureAlgorithm).toBe('1.2.840.113549.1.1.11');
  });

  it('a CA with pathLen 0, and one with none', () => {
    expect(readCertFacts(new Uint8Array(makeCert({ cn: 'ca', subjectKey: key, ca: true, pathLen: 0 }))).maxPathLen).toBe(0);
    expect(readCertFacts(new Uint8Array(makeCert({ cn: 'ca', subjectKey: key, ca: true, pathLen: 3 }))).maxPathLen).toBe(3);
    expect(readCertFacts(new Uint8Array(makeCert({ cn: 'ca', subjectKey: key, ca: true }))).maxPathLen).toBe(-1);
  });
});

describe('readCertFacts: names, times and OIDs', () => {
  it('no version field (v1), no extensions', () => {
    expect(readCertFacts(cert({ version: false }))).toMatchObject({ commonName: 'example.com/a', maxPathLen: -1, unhandledCritical: [] });
  });
  it('the last CN wins (as Go keeps it); other attributes and a non-OID type are passed over; no CN is ""', () => {
    const subject = seq(
      set(seq(oid('2.5.4.3'), utf8str('first'))),
      set(seq(oid('2.5.4.10'), utf8str('org'))),
      set(seq(oid('2.5.4.3'), utf8str('second'))),
      set(seq(tlv(0x0c, Buffer.from('2.5.4.3')), utf8str('not-an-oid'))),
      set(seq()),
    );
    expect(readCertFacts(cert({ subject })).commonName).toBe('second');
    expect(readCertFacts(cert({ subject: seq(set(seq(oid('2.5.4.10'), utf8str('org')))) })).commonName).toBe('');
    expect(readCertFacts(cert({ subject: seq(set(seq(oid('2.5.4.3')))) })).commonName).toBe('');
  });
  it('a BMPString CN is UTF-16BE; a PrintableString one is read as is', () => {
    const bmp = tlv(0x1e, Buffer.from('\u00e9x/\u4e2d', 'utf16le').swap16());
    expect(readCertFacts(cert({ subject: seq(set(seq(oid('2.5.4.3'), bmp))) })).commonName).toBe('\u00e9x/\u4e2d');
    expect(readCertFacts(cert({ subject: seq(set(seq(oid('2.5.4.3'), tlv(0x13, Buffer.from('plain'))))) })).commonName).toBe('plain');
  });
  it.each([
    ['500101000000Z', '1950-01-01T00:00:00.000Z'],
    ['491231235959Z', '2049-12-31T23:59:59.000Z'],
    ['000229120000Z', '2000-02-29T12:00:00.000Z'],
  ])('UTCTime %s is %s', (s, iso) => {
    expect(readCertFacts(cert({ validity: seq(utc(s), utc(s)) })).notBefore.toISOString()).toBe(iso);
  });
  it.each([
    ['19491231235959Z', '1949-12-31T23:59:59.000Z'],
    ['20500101000000Z', '2050-01-01T00:00:00.000Z'],
    ['21000301010203Z', '2100-03-01T01:02:03.000Z'],
  ])('GeneralizedTime %s is %s', (s, iso) => {
    expect(readCertFacts(cert({ validity: seq(gen(s), gen(s)) })).notAfter.toISOString()).toBe(iso);
  });
  it.each([
    ['UTCTime with seconds missing', seq(utc('5001010000Z'), utc('500101000000Z')), 'bad UTCTime 5001010000Z'],
    ['UTCTime without Z', seq(utc('500101000000'), utc('500101000000Z')), 'bad UTCTime'],
    ['UTCTime with an offset', seq(utc('500101000000+0100'), utc('500101000000Z')), 'bad UTCTime'],
    ['UTCTime with a character before it', seq(utc('1500101000000Z'), utc('500101000000Z')), 'bad UTCTime 1500101000000Z'],
    ['UTCTime with a character after its Z', seq(utc('500101000000Z0'), utc('500101000000Z')), 'bad UTCTime 500101000000Z0'],
    ['GeneralizedTime with a character before it', seq(gen('120500101000000Z'), gen('20500101000000Z')), 'bad GeneralizedTime 120500101000000Z'],
    ['GeneralizedTime with a character after its Z', seq(gen('20500101000000Z0'), gen('20500101000000Z')), 'bad GeneralizedTime 20500101000000Z0'],
    ['GeneralizedTime with a fraction', seq(gen('20500101000000.5Z'), gen('20500101000000Z')), 'bad GeneralizedTime 20500101000000.5Z'],
    ['GeneralizedTime in UTCTime form', seq(utc('500101000000Z'), gen('500101000000Z')), 'bad GeneralizedTime'],
    ['a time that is an INTEGER', seq(int(buf(1)), utc('500101000000Z')), 'validity is not a time'],
    ['one time only', seq(utc('500101000000Z')), 'bad validity'],
  ])('refuses a validity with %s', (_, validity, message) => {
    expect(() => readCertFacts(cert({ validity }))).toThrow(message);
  });
  it('decodes OIDs with a first arc of 2 and multi-byte arcs (as critical unknown extensions)', () => {
    const ids = ['1.3.6.1.4.1.11129.2.4.2', '2.5.29.99', '0.39.1', '1.0.16384', '1.39.2', '2.0.1', '1.2.127.128.16383'];
    // The writer's oid() packs the first two arcs in one byte; 2.999 takes two (1079 = 0x88 0x37).
    const wide = seq(tlv(0x06, buf(0x88, 0x37, 0x03)), bool(true), octet(seq()));
    const f = readCertFacts(cert({ exts: [wide, ...ids.map((id) => ext(id, true, buf(0x05, 0x00)))] }));
    expect(f.unhandledCritical).toEqual(['2.999.3', ...ids]);
  });
});

describe('readCertFacts: extensions as Go handles them', () => {
  const handled = ['2.5.29.15', '2.5.29.19', '2.5.29.30', '2.5.29.31', '2.5.29.35', '2.5.29.37', '2.5.29.32'];
  it.each(handled)('critical %s is handled', (id) => {
    const value = id === '2.5.29.19' ? seq() : seq(oid('1.2.3'));
    expect(readCertFacts(cert({ exts: [ext(id, true, value)] })).unhandledCritical).toEqual([]);
  });
  it('critical unknown extensions are listed, non-critical ones (absent or FALSE) are not', () => {
    const f = readCertFacts(cert({ exts: [ext('1.2.3.4', true, seq()), ext('1.2.3.5', false, seq()), ext('1.2.3.6', undefined, seq())] }));
    expect(f.unhandledCritical).toEqual(['1.2.3.4']);
  });
  it('authority information access and subject key ID are unhandled when critical (Go refuses them)', () => {
    expect(readCertFacts(cert({ exts: [ext('1.3.6.1.5.5.7.1.1', true, seq()), ext('2.5.29.14', true, octet(buf(1)))] })).unhandledCritical).toEqual([
      '1.3.6.1.5.5.7.1.1',
      '2.5.29.14',
    ]);
  });
  it.each([
    [0x81, true],
    [0x82, true],
    [0x86, true],
    [0x87, true],
    [0x80, false],
    [0x83, false],
    [0xa4, false],
    [0x88, false],
  ])('a critical SAN naming only [tag 0x%s] is handled: %s', (tag, ok) => {
    const f = readCertFacts(cert({ exts: [ext('2.5.29.17', true, seq(tlv(tag, Buffer.from('x'))))] }));
    expect(f.subjectAltName).toBe(true);
    expect(f.unhandledCritical).toEqual(ok ? [] : ['2.5.29.17']);
  });
  it('a SAN with one usable name among others is handled; a non-critical empty SAN is only noted', () => {
    expect(readCertFacts(cert({ exts: [ext('2.5.29.17', true, seq(tlv(0xa4, seq()), tlv(0x82, Buffer.from('a'))))] })).unhandledCritical).toEqual([]);
    expect(readCertFacts(cert({ exts: [ext('2.5.29.17', false, seq())] }))).toMatchObject({ subjectAltName: true, unhandledCritical: [] });
  });
  it('name constraints are noted', () => {
    expect(readCertFacts(cert({ exts: [ext('2.5.29.30', true, seq())] })).nameConstraints).toBe(true);
  });
  it.each([
    [[0x00], 0],
    [[0x7f], 127],
    [[0x01, 0x00], 256],
    [[0x7f, 0xff, 0xff, 0xff], 0x7fffffff],
  ])('pathLenConstraint %j is %i', (bytes, n) => {
    const bc = ext('2.5.29.19', true, seq(bool(true), tlv(0x02, Buffer.from(bytes))));
    expect(readCertFacts(cert({ exts: [bc] })).maxPathLen).toBe(n);
  });
  it.each([
    ['five bytes', [0x01, 0x00, 0x00, 0x00, 0x00]],
    ['negative', [0x80]],
    ['negative, two bytes', [0xff, 0x00]],
  ])('refuses a pathLenConstraint that is %s', (_, bytes) => {
    const bc = ext('2.5.29.19', true, seq(bool(true), tlv(0x02, Buffer.from(bytes))));
    expect(() => readCertFacts(cert({ exts: [bc] }))).toThrow('bad pathLenConstraint');
  });
  it.each([
    ['an extensions wrapper that holds no SEQUENCE', tlv(0xa3, set()), 'bad extensions'],
    ['an empty extensions wrapper', tlv(0xa3), 'bad extensions'],
    ['an extension without an OID', tlv(0xa3, seq(seq(bool(true), octet(seq())))), 'bad extension'],
    ['an extension whose value is no OCTET STRING', tlv(0xa3, seq(seq(oid('1.2.3'), bool(true), seq()))), 'bad extension value'],
    ['an empty extension', tlv(0xa3, seq(seq())), 'bad extension'],
  ])('refuses %s', (_, extWrapper, message) => {
    expect(() => readCertFacts(cert({ exts: [], extWrapper }))).toThrow(message);
  });
  it('reads extensions after optional unique IDs ([1], [2]) too', () => {
    const der = cert({ exts: [ext('1.2.3.4', true, seq())], trailer: [tlv(0x81, buf(0, 1)), tlv(0x82, buf(0, 2))] });
    expect(readCertFacts(der).unhandledCritical).toEqual(['1.2.3.4']);
  });
});

describe('readCertFacts: malformed DER throws', () => {
  const good = Buffer.from(cert());
  const longForm = (n: number, len: number) => {
    const b: number[] = [];
    for (let i = n - 1; i >= 0; i--) b.push((len >> (8 * i)) & 0xff);
    return [0x80 | n, ...b];
  };
  it('accepts every long length form up to four bytes', () => {
    const body = good.subarray(good[1] === 0x82 ? 4 : good[1] === 0x81 ? 3 : 2);
    for (const n of [1, 2, 3, 4]) {
      const der = new Uint8Array([0x30, ...longForm(n, body.length), ...body]);
      expect(readCertFacts(der).commonName).toBe('example.com/a');
    }
  });
  it.each([
    ['empty', [], 'truncated DER'],
    ['one byte', [0x30], 'truncated DER'],
    ['a length of zero length bytes (0x80)', [0x30, 0x80], 'bad DER length'],
    ['a five-byte length', [0x30, 0x85, 0, 0, 0, 0, 2, 0x05, 0x00], 'bad DER length'],
    ['length bytes past the end', [0x30, 0x82, 0x01], 'bad DER length'],
    ['content past the end', [0x30, 0x05, 0x30, 0x00], 'DER value overruns its container'],
    ['not a SEQUENCE', [0x31, 0x00], 'not a certificate'],
    ['an empty SEQUENCE', [0x30, 0x00], 'not a certificate'],
    ['an empty SEQUENCE, its length bytes ending the input', [0x30, 0x81, 0x00], 'not a certificate'],
    ['an empty SEQUENCE in four length bytes', [0x30, 0x84, 0, 0, 0, 0], 'not a certificate'],
    ['a SEQUENCE of one', [0x30, 0x02, 0x30, 0x00], 'not a certificate'],
    ['a SEQUENCE of two empty ones', [0x30, 0x04, 0x30, 0x00, 0x30, 0x00], 'truncated TBSCertificate'],
  ])('%s', (_, bytes, message) => {
    expect(() => readCertFacts(new Uint8Array(bytes))).toThrow(message);
  });
  it('an extension that is only an OID (no critical flag, no value)', () => {
    expect(() => readCertFacts(cert({ exts: [seq(oid('2.5.29.15'))] }))).toThrow('bad extension value');
    expectDerRefusal(() => readCertFacts(cert({ exts: [seq(oid('2.5.29.15'))] })));
  });
  it('trailing bytes after the certificate', () => {
    expectDerRefusal(() => readCertFacts(new Uint8Array([...good, 0x00])));
  });
  it('a child that overruns its parent, though not the buffer', () => {
    // tbs claims one byte more than the outer SEQUENCE gives it; the outer one still ends at the buffer's end.
    const inner = seq(seq(int(buf(1))), seq(oid('1.2.3')));
    const bytes = Buffer.from(inner);
    bytes[3] = bytes[3] as number + 1; // inner tbs length
    expectDerRefusal(() => readCertFacts(new Uint8Array(bytes)));
  });
  it('a truncated TBSCertificate, a signature algorithm that is no OID', () => {
    const tbs = seq(tlv(0xa0, int(buf(2))), int(buf(1)), SIG_ALGS['ecdsa-sha256'], name('i'));
    expectDerRefusal(() => readCertFacts(new Uint8Array(seq(tbs, SIG_ALGS['ecdsa-sha256']))));
    // A validity and no subject is as truncated as neither.
    const noSubject = seq(tlv(0xa0, int(buf(2))), int(buf(1)), SIG_ALGS['ecdsa-sha256'], name('i'), seq(time('2030-01-01T00:00:00Z'), time('2031-01-01T00:00:00Z')));
    expect(() => readCertFacts(new Uint8Array(seq(noSubject, SIG_ALGS['ecdsa-sha256'])))).toThrow('truncated TBSCertificate');
    expectDerRefusal(() => readCertFacts(cert({ alg: seq(int(buf(1))) })));
    expectDerRefusal(() => readCertFacts(cert({ alg: seq() })));
  });
  it('every truncation of a real certificate throws', () => {
    const der = makeCert({ cn: 'example.com/t', subjectKey: key, ca: true, pathLen: 1 });
    for (let n = 0; n < der.length; n++) expectDerRefusal(() => readCertFacts(new Uint8Array(der.subarray(0, n))), String(n));
  });
});
