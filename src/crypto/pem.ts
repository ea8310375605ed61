/**
 * PEM blocks the way Go's `encoding/pem` reads and writes them — Notary stores x509 keys as
 * PEM text and computes key IDs over Go's re-encoding (spec §3.5, §6 "key rebuild").
 */

export interface PemBlock {
  type: string;
  /** True when the block carried `Name: value` headers (Notary skips such certificate blocks). */
  hasHeaders: boolean;
  der: Uint8Array;
}

const BLOCK_RE = /-----BEGIN ([^\r\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/g;
const B64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;

/** Every well-formed PEM block in `text`, in order; text between blocks is ignored (as Go does). */
export function decodePemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK_RE)) {
    const type = m[1] as string;
    let body = m[2] as string;
    let hasHeaders = false;
    const lines = body.split(/\r?\n/);
    if (lines[0]?.includes(':')) {
      hasHeaders = true;
      const blank = lines.findIndex((l) => l.trim() === '');
      if (blank < 0) continue;
      body = lines.slice(blank + 1).join('\n');
    }
    const b64 = body.replace(/[\r\n \t]/g, '');
    if (!B64_BODY.test(b64) || b64.length % 4 !== 0) continue;
    out.push({ type, hasHeaders, der: new Uint8Array(Buffer.from(b64, 'base64')) });
  }
  return out;
}

/** Go's `pem.EncodeToMemory` for a header-less block: 64-column base64, `\n` line ends. */
export function encodePem(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  let out = `-----BEGIN ${type}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += `${b64.slice(i, i + 64)}\n`;
  return `${out}-----END ${type}-----\n`;
}
