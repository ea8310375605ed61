/**
 * Pin selection and application on their own (notary-rules.md §6.1; Notary trustpinning/trustpin.go):
 * which table entry a GUN gets, what shapes are refused, and which leaves a pin keeps.
 */
import { describe, expect, it } from 'vitest';
import { parseCertificate, type Certificate } from '../../src/crypto/certificate.js';
import { applyPins, gunEntry, isResolvedPins, resolvePins, type PinCandidate } from '../../src/tuf/trust-pinning.js';
// @ts-expect-error untyped mjs
import { ecKey, makeCert, octet, oid, pem, seq } from '../../scripts/lib/notary-writer.mjs';
import { expectTrustError } from '../helpers/vectors.js';

const GUN = 'example.com/team/app';
const NOW = new Date('2030-01-01T00:00:00Z');
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

describe('gunEntry', () => {
  const table = { 'example.com/*': 'short', 'example.com/team/*': 'long', 'example.com/team/app2': 'other exact', 'example.com/te': 'no star' };
  it('exact first, else the longest prefix* that covers the GUN, in any key order', () => {
    expect(gunEntry(table, GUN)).toBe('long');
    expect(gunEntry({ 'example.com/team/*': 'long', 'example.com/*': 'short' }, GUN)).toBe('long');
    expect(gunEntry({ ...table, [GUN]: 'exact' }, GUN)).toBe('exact');
    expect(gunEntry(table, 'example.com/x')).toBe('short');
  });
  it('a key without * is never a prefix, and a prefix* outside the GUN does not apply', () => {
    expect(gunEntry({ 'example.com/te': 'no star' }, GUN)).toBeUndefined();
    expect(gunEntry({ 'example.com/team/app/*': 'below' }, GUN)).toBeUndefined();
    expect(gunEntry({ 'other.com/*': 'x' }, GUN)).toBeUndefined();
    expect(gunEntry({ '*': 'all' }, GUN)).toBe('all');
    expect(gunEntry({ '*': 'all', 'example.com/team/*': 'long' }, GUN)).toBe('long');
    // The whole GUN followed by * covers it; a longer spelling does not.
    expect(gunEntry({ 'example.com/*': 'short', [`${GUN}*`]: 'whole' }, GUN)).toBe('whole');
    expect(gunEntry({ [`${GUN}2*`]: 'x', 'example.com/team/app/x/*': 'y' }, GUN)).toBeUndefined();
    expect(gunEntry(undefined, GUN)).toBeUndefined();
    expect(gunEntry({}, GUN)).toBeUndefined();
    // No match must not fall through to a key that happens to be spelled "undefined".
    expect(gunEntry({ undefined: 'x' }, GUN)).toBeUndefined();
    expect(resolvePins({ certs: { undefined: ['x'] }, ca: { undefined: 'CA' } }, GUN)).toEqual({});
  });
});

describe('resolvePins', () => {
  it('certs win over ca; ca by the longest plain prefix; nothing matching is TOFU', () => {
    expect(resolvePins({ certs: { [GUN]: ['id1'] }, ca: { 'example.com/': 'CA' } }, GUN)).toEqual({ certIds: ['id1'] });
    expect(resolvePins({ certs: { 'other/*': ['id1'] }, ca: { 'example.com/': 'CA1', 'example.com/team/': 'CA2', 'example.com/team/app/': 'CA3' } }, GUN)).toEqual({ ca: 'CA2' });
    expect(resolvePins({ ca: { 'example.com/team/': 'CA2', 'example.com/': 'CA1' } }, GUN)).toEqual({ ca: 'CA2' });
    expect(resolvePins({ ca: { 'other.com/': 'CA' } }, GUN)).toEqual({});
    expect(resolvePins({}, GUN)).toEqual({});
    // Go's strings.HasPrefix(gun, ""): an empty prefix covers every GUN; the GUN itself is a prefix of itself.
    expect(resolvePins({ ca: { '': 'ANY', 'example.com/team/app2': 'CA' } }, GUN)).toEqual({ ca: 'ANY' });
    expect(resolvePins({ ca: { '': 'ANY', [GUN]: 'SELF', 'example.com/': 'CA1' } }, GUN)).toEqual({ ca: 'SELF' });
    expect(resolvePins({ ca: { 'example.com/team/app/more': 'LONGER' } }, GUN)).toEqual({});
    // An empty ID list is a pin that accepts nothing, not an absent pin.
    expect(resolvePins({ certs: { [GUN]: [] } }, GUN)).toEqual({ certIds: [] });
  });
  it('a resolved form is returned as it is', () => {
    expect(resolvePins({ certIds: ['a'] }, GUN)).toEqual({ certIds: ['a'] });
    expect(resolvePins({ ca: 'PEM' }, GUN)).toEqual({ ca: 'PEM' });
    expect(resolvePins({ certIds: ['a'], ca: 'PEM' }, GUN)).toEqual({ certIds: ['a'], ca: 'PEM' });
    // No field is added that was not given (toEqual would not see an undefined one).
    expect(Object.keys(resolvePins({ ca: 'PEM' }, GUN))).toEqual(['ca']);
    expect(Object.keys(resolvePins({ certIds: ['a'] }, GUN))).toEqual(['certIds']);
    expectTrustError(() => resolvePins({ certIds: ['a'], ca: { x: 'PEM' } } as never, GUN), 'ERR_INVALID_ARGUMENT');
    expect(isResolvedPins({ certIds: [] })).toBe(true);
    expect(isResolvedPins({ ca: 'PEM' })).toBe(true);
    expect(isResolvedPins({ ca: { x: 'PEM' } })).toBe(false);
    expect(isResolvedPins({ certs: {} })).toBe(false);
  });
  it('wrong shapes are ERR_INVALID_ARGUMENT', () => {
    for (const bad of [null, [], 'x', { certs: [] }, { certs: 'x' }, { ca: [] }, { certs: { [GUN]: 'id' } }, { certs: { [GUN]: [1] } }, { ca: { 'example.com/': 7 } }, { certIds: 'x' }, { certIds: [1] }]) {
      const e = expectTrustError(() => resolvePins(bad as never, GUN), 'ERR_INVALID_ARGUMENT');
      expect(e.message.startsWith('pins: '), e.message).toBe(true);
      expect(e).toMatchObject({ check: 'pins' });
    }
    expectTrustError(() => resolvePins({}, 7 as never), 'ERR_INVALID_ARGUMENT');
  });
});

describe('applyPins', () => {
  const caKey = ecKey('pin-unit-ca');
  const caDer = makeCert({ cn: 'unit CA', subjectKey: caKey, ca: true });
  const leafKey = ecKey('pin-unit-leaf');
  const parse = (der: Uint8Array): Certificate => parseCertificate(der) as Certificate;
  const candidate = (id: string, der: Uint8Array): PinCandidate => ({ id, leaf: parse(der), intermediates: [] });
  const issued = candidate('issued', makeCert({ cn: GUN, subjectKey: leafKey, issuerKey: caKey, issuerCn: 'unit CA', eku: SERVER_AUTH, serial: 3 }));
  const forged = candidate('forged', makeCert({ cn: GUN, subjectKey: leafKey, issuerKey: ecKey('pin-unit-impostor'), issuerCn: 'unit CA', eku: SERVER_AUTH, serial: 4 }));
  const selfSigned = candidate('self', makeCert({ cn: GUN, subjectKey: leafKey }));

  it('no pins keeps every leaf', () => {
    expect(applyPins([issued, selfSigned], GUN, NOW, undefined).map((k) => k.id)).toEqual(['issued', 'self']);
    expect(applyPins([issued, selfSigned], GUN, NOW, {}).map((k) => k.id)).toEqual(['issued', 'self']);
  });

  it('certIds keeps exactly the pinned leaves; none left, or an empty list, is a mismatch', () => {
    expect(applyPins([issued, selfSigned], GUN, NOW, { certIds: ['self'] }).map((k) => k.id)).toEqual(['self']);
    const e = expectTrustError(() => applyPins([issued], GUN, NOW, { certIds: ['self'] }), 'ERR_ROOT_PIN_MISMATCH', 'root');
    expect(e).toMatchObject({ check: 'pinned root key ids', expected: 'self', actual: 'issued', keyIds: ['self'] });
    expectTrustError(() => applyPins([issued], GUN, NOW, { certIds: [] }), 'ERR_ROOT_PIN_MISMATCH', 'root');
    // certIds wins over a CA that would accept.
    expectTrustError(() => applyPins([issued], GUN, NOW, { certIds: ['self'], ca: pem(caDer) }), 'ERR_ROOT_PIN_MISMATCH', 'root');
  });

  it('a CA keeps the leaves it signed, not those that only name it as issuer', () => {
    expect(applyPins([forged, issued, selfSigned], GUN, NOW, { ca: pem(caDer) }).map((k) => k.id)).toEqual(['issued']);
    const e = expectTrustError(() => applyPins([forged, selfSigned], GUN, NOW, { ca: pem(caDer) }), 'ERR_ROOT_PIN_MISMATCH', 'root');
    expect(e).toMatchObject({ check: 'pinned ca' });
  });

  it('a pinned CA must itself be valid now: an expired, weak or not-yet-valid bundle is a usage error', () => {
    const expired = makeCert({ cn: 'unit CA', subjectKey: caKey, ca: true, notAfter: '2029-01-01T00:00:00Z' });
    const sha1 = makeCert({ cn: 'unit CA', subjectKey: caKey, ca: true, alg: 'ecdsa-sha1' });
    for (const der of [expired, sha1]) {
      const e = expectTrustError(() => applyPins([issued], GUN, NOW, { ca: pem(der) }), 'ERR_INVALID_ARGUMENT', 'root');
      expect(e).toMatchObject({ check: 'ca pin' });
    }
    expectTrustError(() => applyPins([issued], GUN, NOW, { ca: 'not pem' }), 'ERR_INVALID_ARGUMENT', 'root');
    const notYet = makeCert({ cn: 'unit CA', subjectKey: caKey, ca: true, notBefore: '2030-01-03T00:00:00Z' });
    expectTrustError(() => applyPins([issued], GUN, NOW, { ca: pem(notYet) }), 'ERR_INVALID_ARGUMENT', 'root');
    // A valid CA beside an expired one still anchors.
    expect(applyPins([issued], GUN, NOW, { ca: pem(expired) + pem(caDer) }).map((k) => k.id)).toEqual(['issued']);
  });

  it('as Notary LoadCertBundleFromPEM: a block that is not a parsable CERTIFICATE makes the bundle unusable', () => {
    const junk = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
    const garbled = '-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n';
    // The CA's own DER under another block type is not a certificate either.
    const otherType = (pem(caDer) as string).replaceAll('CERTIFICATE', 'X509 CERTIFICATE');
    for (const bundle of [junk + pem(caDer), pem(caDer) + garbled, otherType]) {
      const e = expectTrustError(() => applyPins([issued], GUN, NOW, { ca: bundle }), 'ERR_INVALID_ARGUMENT', 'root');
      expect(e).toMatchObject({ check: 'ca pin' });
    }
  });

  it('any CA of the bundle may anchor: the issuer listed second still counts', () => {
    const otherCa = makeCert({ cn: 'other unit CA', subjectKey: ecKey('pin-unit-other-ca'), ca: true });
    expect(applyPins([issued], GUN, NOW, { ca: pem(otherCa) + pem(caDer) }).map((k) => k.id)).toEqual(['issued']);
    expectTrustError(() => applyPins([issued], GUN, NOW, { ca: pem(otherCa) }), 'ERR_ROOT_PIN_MISMATCH', 'root');
  });

  it('the leaf itself must be valid now with no leeway, and allow serverAuth', () => {
    const late = candidate('late', makeCert({ cn: GUN, subjectKey: leafKey, issuerKey: caKey, issuerCn: 'unit CA', eku: SERVER_AUTH, serial: 5, notBefore: '2030-01-01T00:00:01Z' }));
    const gone = candidate('gone', makeCert({ cn: GUN, subjectKey: leafKey, issuerKey: caKey, issuerCn: 'unit CA', eku: SERVER_AUTH, serial: 6, notAfter: '2029-12-31T23:59:59Z' }));
    const any = candidate('any', makeCert({ cn: GUN, subjectKey: leafKey, issuerKey: caKey, issuerCn: 'unit CA', eku: '2.5.29.37.0', serial: 7 }));
    const signing = candidate('signing', makeCert({ cn: GUN, subjectKey: leafKey, issuerKey: caKey, issuerCn: 'unit CA', eku: '1.3.6.1.5.5.7.3.3', serial: 8 }));
    expect(applyPins([late, gone, any, signing, issued], GUN, NOW, { ca: pem(caDer) }).map((k) => k.id)).toEqual(['any', 'issued']);
  });

  it('a leaf with no EKU extension, or an empty one, allows every usage (Go: no ExtKeyUsage means any)', () => {
    const none = candidate('no-eku', makeCert({ cn: GUN, subjectKey: leafKey, issuerKey: caKey, issuerCn: 'unit CA', eku: '', serial: 10 }));
    const empty = candidate('empty-eku', makeCert({ cn: GUN, subjectKey: leafKey, issuerKey: caKey, issuerCn: 'unit CA', eku: '', serial: 11, extensions: [seq(oid('2.5.29.37'), octet(seq()))] }));
    expect(none.leaf.x509.keyUsage, 'node:crypto reports no EKU as undefined').toBeUndefined();
    expect(empty.leaf.x509.keyUsage).toEqual([]);
    expect(applyPins([none, empty], GUN, NOW, { ca: pem(caDer) }).map((k) => k.id)).toEqual(['no-eku', 'empty-eku']);
  });

  it('a leaf that is in the bundle must still allow serverAuth (Go checks the usage of the one-certificate chain)', () => {
    const signingLeaf = makeCert({ cn: GUN, subjectKey: leafKey, eku: '1.3.6.1.5.5.7.3.3', serial: 12 });
    expectTrustError(() => applyPins([candidate('signing-pinned-leaf', signingLeaf)], GUN, NOW, { ca: pem(signingLeaf) + pem(caDer) }), 'ERR_ROOT_PIN_MISMATCH', 'root');
  });

  it('a mismatch names every pinned ID and every leaf found', () => {
    const e = expectTrustError(() => applyPins([issued, selfSigned], GUN, NOW, { certIds: ['p1', 'p2'] }), 'ERR_ROOT_PIN_MISMATCH', 'root');
    expect(e).toMatchObject({ expected: 'p1,p2', actual: 'issued,self' });
    expect(e.message).toContain('issued, self');
  });

  it('a leaf that is itself in the pinned bundle is accepted', () => {
    const leafDer = makeCert({ cn: GUN, subjectKey: leafKey, eku: SERVER_AUTH, serial: 9 });
    expect(applyPins([candidate('pinned-leaf', leafDer)], GUN, NOW, { ca: pem(leafDer) + pem(caDer) }).map((k) => k.id)).toEqual(['pinned-leaf']);
  });

  it('a chain holds at most four intermediates (trustgate bounds the search; a fifth is refused)', () => {
    const keys = [0, 1, 2, 3, 4].map((i) => ecKey(`pin-unit-int-${i}`));
    // keys[0] is issued by the CA, keys[i] by keys[i - 1]; the leaf by the last one used.
    const ints = keys.map((k, i) =>
      parse(makeCert({ cn: `int ${i}`, subjectKey: k, issuerKey: i === 0 ? caKey : keys[i - 1], issuerCn: i === 0 ? 'unit CA' : `int ${i - 1}`, ca: true, serial: 20 + i })),
    );
    const leafUnder = (n: number): PinCandidate => ({
      id: `under-${n}`,
      leaf: parse(makeCert({ cn: GUN, subjectKey: leafKey, issuerKey: keys[n - 1], issuerCn: `int ${n - 1}`, eku: SERVER_AUTH, serial: 40 + n })),
      intermediates: ints.slice(0, n),
    });
    expect(applyPins([leafUnder(1), leafUnder(4)], GUN, NOW, { ca: pem(caDer) }).map((k) => k.id)).toEqual(['under-1', 'under-4']);
    expectTrustError(() => applyPins([leafUnder(5)], GUN, NOW, { ca: pem(caDer) }), 'ERR_ROOT_PIN_MISMATCH', 'root');
  });
});
