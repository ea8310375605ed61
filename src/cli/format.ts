/** Output helpers shared by the commands: colour, Go-compatible JSON, docker's tables and order. */
export { naturalCompare } from '../verify/tag-order.js';

/** The part of `process.stdout`/`process.stderr` the CLI uses. */
export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** An environment switch is set only when it has a value: an empty `NO_COLOR=` means unset. */
const isSet = (v: string | undefined): v is string => v !== undefined && v !== '';

/**
 * Colour only on a terminal, never for `TERM=dumb`, never when `NO_COLOR` has a value
 * (no-color.org: an empty `NO_COLOR` does not count). `FORCE_COLOR` with a value other than `0`
 * or `false` turns it on without a terminal; `FORCE_COLOR=0` turns it off even on one (the
 * convention of chalk's supports-color and Node's own `tty.getColorDepth`). `NO_COLOR` wins.
 */
export function colourEnabled(stream: OutStream, env: Env): boolean {
  if (isSet(env['NO_COLOR'])) return false;
  const force = env['FORCE_COLOR'];
  if (isSet(force)) return force !== '0' && force !== 'false';
  return stream.isTTY === true && env['TERM'] !== 'dumb';
}

/**
 * What a terminal acts on instead of printing: C0 controls (ESC starts an escape sequence, CR
 * rewrites the line, a newline forges another output line), DEL, C1 controls (U+009B is a
 * one-character CSI), the line and paragraph separators, and the bidirectional embeddings,
 * overrides and isolates that reorder the text after them.
 */
const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** {@link TERMINAL_UNSAFE} without C0: JSON escapes those itself, and its layout uses newlines. */
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const hex = (c: string, width: number) => (c.codePointAt(0) ?? 0).toString(16).padStart(width, '0');

/**
 * The one escaping of untrusted text (target names, references, paths, error messages) for a
 * terminal: each character of {@link TERMINAL_UNSAFE} becomes `\xHH` or `\uHHHH`, everything else
 * is kept, so docker-compatible names such as `a<b>&c` and non-ASCII print unchanged. Target
 * names can hold any character (notary-rules.md §5.4), and a message quotes them.
 */
export function escapeTerminal(text: string): string {
  return text.replace(TERMINAL_UNSAFE, (c) => (c.charCodeAt(0) < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/**
 * `JSON.stringify` for our own documents on stdout: JSON already escapes C0 controls; DEL, C1,
 * the separators and the bidi controls are written as `\uHHHH` too, so `cat`-ing the document is
 * as safe as the human output. They occur only inside strings, so the parsed value is unchanged.
 */
export function jsonText(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(JSON_UNSAFE, (c) => `\\u${hex(c, 4)}`);
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
