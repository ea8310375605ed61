/** Output helpers shared by the commands: colour, Go-compatible JSON, docker's tables and order. */
export { naturalCompare } from '../verify/tag-order.js';

/** The part of `process.stdout`/`process.stderr` the CLI uses. */
export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Colour only on a terminal, never when `NO_COLOR` is set (to anything), never for `TERM=dumb`.
 * `FORCE_COLOR` (non-empty, not `0`) turns it on without a terminal, unless `NO_COLOR` is set.
 */
export function colourEnabled(stream: OutStream, env: Env): boolean {
  if (env['NO_COLOR'] !== undefined) return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '' && force !== '0') return true;
  return stream.isTTY === true && env['TERM'] !== 'dumb';
}

export interface Paint {
  green(s: string): string;
  red(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

export function paint(enabled: boolean): Paint {
  if (!enabled) {
    const id = (s: string) => s;
    return { green: id, red: id, bold: id, dim: id };
  }
  return { green: sgr(32, 39), red: sgr(31, 39), bold: sgr(1, 22), dim: sgr(2, 22) };
}

/**
 * `JSON.stringify` with Go's `encoding/json` string escaping on top, so that output matches
 * docker's byte for byte: `<`, `>`, `&`, U+2028 and U+2029 are written as `\uXXXX`. Those
 * characters can only occur inside strings, so a plain replacement is exact.
 */
export function goJson(value: unknown, indent: number): string {
  return JSON.stringify(value, null, indent).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Lays rows out like Go's `text/tabwriter` as docker configures it (min width 10, padding 3,
 * spaces): every column but the last is padded to its widest cell plus 3, at least 10 wide.
 * Widths count code points, as tabwriter counts runes.
 */
export function tabulate(rows: readonly (readonly string[])[], minWidth = 10, padding = 3): string {
  const width = (s: string) => [...s].length;
  const cols = Math.max(0, ...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < cols - 1; c++) {
    widths.push(Math.max(minWidth, ...rows.map((r) => width(r[c] ?? '') + padding)));
  }
  return rows
    .map((r) => r.map((cell, c) => (c < r.length - 1 ? cell + ' '.repeat((widths[c] ?? 0) - width(cell)) : cell)).join('') + '\n')
    .join('');
}

/** Plain byte order of the UTF-8 encodings (Go's `<` on strings, `sort.Strings`). */
export function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
