/**
 * PEM blocks the way Go's `encoding/pem` reads and writes them — Notary stores x509 keys as
 * PEM text and computes key IDs over Go's re-encoding (notary-rules.md §3.5, §6 "key rebuild").
 */

export interface PemBlock {
  type: string;
  /** True when the block carried `Name: value` headers (Notary skips such certificate blocks). */
  hasHeaders: boolean;
  der: Uint8Array;
}

// Line-anchored and linear: a BEGIN line whose type is anything up to a final "-----"
// (types with "-" included, trailing spaces and tabs allowed, as Go's getLine trims them).
const BEGIN_LINE = /^-----BEGIN (.*)-----[ \t]*\r?$/gm;
const END_LINE = /^-----END (.*)-----[ \t]*\r?$/gm;
const B64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Every well-formed PEM block in `text`, in order; text between blocks is ignored (as Go does).
 * Like Go's `pem.Decode`, a BEGIN line is closed by the first END line after it; if that END
 * names another type, or the body is not base64, the block is skipped and scanning goes on
 * after its BEGIN line. One pass over the lines: no input makes this quadratic.
 */
export function decodePemBlocks(text: string): PemBlock[] {
  const ends: { at: number; after: number; type: string }[] = [];
  for (const m of text.matchAll(END_LINE)) ends.push({ at: m.index, after: m.index + m[0].length, type: m[1] as string });
  const begins = [...text.matchAll(BEGIN_LINE)];
  const out: PemBlock[] = [];
  let e = 0;
  let consumedTo = 0;
  for (let b = 0; b < begins.length; b++) {
    const m = begins[b] as RegExpExecArray;
    if (m.index < consumedTo) continue; // inside a block already decoded
    const bodyStart = m.index + m[0].length;
    while (e < ends.length && (ends[e] as { at: number }).at < bodyStart) e++;
    const end = ends[e];
    if (!end || end.type !== m[1]) continue;
    // A body holding another BEGIN line cannot be base64 (Go fails to decode it too); skipping
    // it without decoding keeps "many BEGIN lines, one END" linear.
    if ((begins[b + 1]?.index ?? Infinity) < end.at) continue;
    const block = decodeBody(m[1] as string, text.slice(bodyStart, end.at));
    if (!block) continue;
    out.push(block);
    consumedTo = end.after;
  }
  return out;
}

function decodeBody(type: string, body: string): PemBlock | undefined {
  let hasHeaders = false;
  // Go reads `Name: value` lines up to the first line without a colon (the blank line, or the
  // first base64 line when there is none); everything from that line on is the body.
  const lines = body.replace(/^\r?\n/, '').split(/\r?\n/);
  let k = 0;
  while (k < lines.length && (lines[k] as string).includes(':')) k++;
  if (k > 0) {
    hasHeaders = true;
    body = lines.slice(k).join('\n');
  }
  const b64 = body.replace(/[\r\n \t]/g, '');
  if (b64.length % 4 !== 0 || !B64_BODY.test(b64)) return undefined;
  return { type, hasHeaders, der: new Uint8Array(Buffer.from(b64, 'base64')) };
}

/** Go's `pem.EncodeToMemory` for a header-less block: 64-column base64, `\n` line ends. */
export function encodePem(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  let out = `-----BEGIN ${type}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += `${b64.slice(i, i + 64)}\n`;
  return `${out}-----END ${type}-----\n`;
}
