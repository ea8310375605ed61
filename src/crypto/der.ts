/**
 * A minimal DER reader: just enough of X.509 to apply Notary's root-certificate policy
 * (spec §6 step 3) — signature algorithm, subject CN, validity — which `node:crypto`'s
 * `X509Certificate` does not expose on Node 20.
 */

export interface DerNode {
  tag: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset just past the last content byte. */
  end: number;
}

class DerError extends Error {}

export function readNode(buf: Uint8Array, at: number, limit = buf.length): DerNode {
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

export function children(buf: Uint8Array, node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let at = node.start;
  while (at < node.end) {
    const c = readNode(buf, at, node.end);
    out.push(c);
    at = c.end;
  }
  return out;
}

export function decodeOid(buf: Uint8Array, node: DerNode): string {
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
}

const OID_CN = '2.5.4.3';

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
  };
}
