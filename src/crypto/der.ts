/**
 * A minimal DER reader: just enough of X.509 to apply Notary's root-certificate policy
 * (notary-rules.md §6 step 3) — signature algorithm, subject CN, validity — which `node:crypto`'s
 * `X509Certificate` does not expose on Node 20.
 */

interface DerNode {
  tag: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset just past the last content byte. */
  end: number;
}

class DerError extends Error {}

function readNode(buf: Uint8Array, at: number, limit = buf.length): DerNode {
  if (at + 2 > limit) throw new DerError('truncated DER');
  const tag = buf[at] as number;
  let len = buf[at + 1] as number;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new DerError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[start + i] as number);
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new DerError('DER value overruns its container');
  return { tag, start, end };
}

function children(buf: Uint8Array, node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let at = node.start;
  while (at < node.end) {
    const c = readNode(buf, at, node.end);
    out.push(c);
    at = c.end;
  }
  return out;
}

function decodeOid(buf: Uint8Array, node: DerNode): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = node.start; i < node.end; i++) {
    const b = buf[i] as number;
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

function decodeTime(buf: Uint8Array, node: DerNode): Date {
  const s = Buffer.from(buf.subarray(node.start, node.end)).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (node.tag === 0x17) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) throw new DerError(`bad UTCTime ${s}`);
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
  } else if (node.tag === 0x18) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) throw new DerError(`bad GeneralizedTime ${s}`);
    year = Number(m[1]);
  } else {
    throw new DerError('validity is not a time');
  }
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

export interface CertFacts {
  /** OID of the certificate's signature algorithm. */
  signatureAlgorithm: string;
  /** The subject's CommonName (the last one, as Go's pkix.Name keeps it), or ''. */
  commonName: string;
  notBefore: Date;
  notAfter: Date;
  /** Basic constraints' pathLenConstraint, or -1 when absent (Go's `MaxPathLen`). */
  maxPathLen: number;
  /** The certificate carries a name constraints extension. */
  nameConstraints: boolean;
  /** The certificate carries a subject alternative name extension. */
  subjectAltName: boolean;
  /**
   * Critical extensions Go's x509 parser does not handle, by OID: its chain verification refuses
   * a certificate that has any (`UnhandledCriticalExtension`).
   */
  unhandledCritical: string[];
}

const OID_CN = '2.5.4.3';

// Extensions Go's parser understands by their OID alone (crypto/x509 processExtensions): key
// usage, basic constraints, name constraints, CRL distribution points, authority key ID, extended
// key usage, certificate policies. The subject alternative name is handled only when it names
// something Go reads (below). Authority information access and the subject key ID, which Go
// refuses outright when critical, are not here: unhandled, also a refusal.
const GO_HANDLED = new Set(['2.5.29.15', '2.5.29.19', '2.5.29.30', '2.5.29.31', '2.5.29.35', '2.5.29.37', '2.5.29.32']);
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_SAN = '2.5.29.17';
const OID_NAME_CONSTRAINTS = '2.5.29.30';

interface ExtensionFacts {
  maxPathLen: number;
  nameConstraints: boolean;
  subjectAltName: boolean;
  unhandledCritical: string[];
}

/** Reads the `[3] Extensions` of a TBSCertificate (absent: no extensions). */
function readExtensions(der: Uint8Array, tbsChildren: DerNode[]): ExtensionFacts {
  const out: ExtensionFacts = { maxPathLen: -1, nameConstraints: false, subjectAltName: false, unhandledCritical: [] };
  const wrapper = tbsChildren.find((n) => n.tag === 0xa3);
  if (!wrapper) return out;
  const list = children(der, wrapper)[0];
  if (!list || list.tag !== 0x30) throw new DerError('bad extensions');
  for (const ext of children(der, list)) {
    const parts = children(der, ext);
    const id = parts[0];
    if (!id || id.tag !== 0x06) throw new DerError('bad extension');
    const oid = decodeOid(der, id);
    const critical = parts[1]?.tag === 0x01 && der[parts[1].start] !== 0;
    const value = parts[parts.length - 1];
    if (!value || value.tag !== 0x04) throw new DerError('bad extension value');
    let handled = GO_HANDLED.has(oid);
    if (oid === OID_BASIC_CONSTRAINTS) {
      const seq = readNode(der, value.start, value.end);
      for (const f of children(der, seq)) {
        if (f.tag !== 0x02) continue;
        if (f.end - f.start > 4 || (der[f.start] as number) & 0x80) throw new DerError('bad pathLenConstraint');
        let n = 0;
        for (let i = f.start; i < f.end; i++) n = n * 256 + (der[i] as number);
        out.maxPathLen = n;
      }
    } else if (oid === OID_SAN) {
      out.subjectAltName = true;
      // Go counts the extension as handled only when it names a DNS name, e-mail address, URI or
      // IP address ([2], [1], [6], [7]).
      const names = children(der, readNode(der, value.start, value.end));
      handled = names.some((g) => g.tag === 0x81 || g.tag === 0x82 || g.tag === 0x86 || g.tag === 0x87);
    } else if (oid === OID_NAME_CONSTRAINTS) {
      out.nameConstraints = true;
    }
    if (critical && !handled) out.unhandledCritical.push(oid);
  }
  return out;
}

/** Reads the facts Notary's policy needs from a DER certificate; throws on malformed DER. */
export function readCertFacts(der: Uint8Array): CertFacts {
  const cert = readNode(der, 0);
  if (cert.tag !== 0x30 || cert.end !== der.length) throw new DerError('not a certificate');
  const [tbs, sigAlg] = children(der, cert);
  if (!tbs || !sigAlg) throw new DerError('not a certificate');
  const t = children(der, tbs);
  let i = 0;
  if (t[0]?.tag === 0xa0) i++; // explicit version
  const validity = t[i + 3];
  const subject = t[i + 4];
  if (!validity || !subject) throw new DerError('truncated TBSCertificate');
  const [nb, na] = children(der, validity);
  if (!nb || !na) throw new DerError('bad validity');
  const algOid = children(der, sigAlg)[0];
  if (!algOid || algOid.tag !== 0x06) throw new DerError('bad signature algorithm');
  let commonName = '';
  for (const rdn of children(der, subject)) {
    for (const atv of children(der, rdn)) {
      const [oid, val] = children(der, atv);
      if (oid?.tag === 0x06 && val && decodeOid(der, oid) === OID_CN) {
        const raw = Buffer.from(der.subarray(val.start, val.end));
        // BMPString is UTF-16BE; everything else Notary could meet here is UTF-8 compatible.
        commonName = val.tag === 0x1e ? Buffer.from(raw).swap16().toString('utf16le') : raw.toString('utf8');
      }
    }
  }
  return {
    signatureAlgorithm: decodeOid(der, algOid),
    commonName,
    notBefore: decodeTime(der, nb),
    notAfter: decodeTime(der, na),
    ...readExtensions(der, t.slice(i + 6)),
  };
}
