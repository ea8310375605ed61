/**
 * A strict JSON parser for metadata bytes.
 *
 * `JSON.parse` cannot see what makes Notary metadata dangerous: a repeated member name is
 * merged by Go's typed decoder but "last wins" in the signature check (notary-rules.md §14.1), invalid
 * UTF-8 decodes differently in Go and JS (notary-rules.md §14.6), and nesting is unbounded (§14.8). This
 * parser refuses all of those in one pass, and also refuses a BOM, non-integer numbers and
 * integers beyond 2^53 (Notary's canonical form has integers only, notary-rules.md §5.1).
 *
 * A member named `__proto__` is defined as an own data property, never as the prototype.
 */
import { TrustError } from '../errors.js';
import { compareCodePoints } from './canonical-order.js';
import { scanCanonical, type MemberEntries } from './canonical-scan.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export interface ParseLimits {
  /** Deepest allowed nesting of arrays and objects. */
  maxDepth: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxDepth: 64 };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 strictly: any invalid byte sequence is an error (notary-rules.md §14.6). */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw malformed(`${what} starts with a byte order mark`, what);
  }
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new TrustError('ERR_METADATA_MALFORMED', `${what} is not valid UTF-8`, { path: what, cause });
  }
}

function malformed(message: string, what: string): TrustError {
  return new TrustError('ERR_METADATA_MALFORMED', message, { path: what, check: 'json syntax' });
}

/**
 * Parses metadata bytes. `what` names the file in error messages.
 * @throws {TrustError} `ERR_METADATA_MALFORMED`
 */
export function parseStrictJson(
  bytes: Uint8Array,
  what: string,
  limits: ParseLimits = DEFAULT_PARSE_LIMITS,
): JsonValue {
  return parseStrictJsonText(decodeUtf8(bytes, what), what, limits);
}

/** The bytes of one top-level member's value, and whether they are already canonical. */
export interface MemberSpan {
  /** Byte offsets into the input. */
  start: number;
  end: number;
  /**
   * True when the bytes are exactly Notary's canonical encoding of the parsed value: no
   * whitespace, members in code-point order, no escapes but `\"` and `\\`, no `-0`. Then the
   * canonical message is these bytes and need not be re-encoded.
   */
  canonical: boolean;
}

/**
 * The members of a large object left as text (see {@link ParseOptions.indexed}): `offsets` as
 * in {@link MemberEntries}, into `text`. Each member value is complete, valid JSON in canonical
 * form, with no duplicate names at any depth, no number outside Notary's integers and no
 * nesting beyond the depth limit.
 */
export interface IndexedMembers extends MemberEntries {
  text: string;
}

export interface ParseOptions {
  /** Tests turn the fast path off to compare it with the strict parser. */
  fastPath?: boolean;
  /**
   * A member of `member` (e.g. `targets`) that, when the file is in canonical form and that
   * member is an object, is not built: it parses as `{}` and its members are returned as
   * {@link IndexedMembers} for the caller to check and read one at a time. A 100k-target file
   * then never exists as 100k objects at once.
   */
  indexed?: string;
  /**
   * A member path from the top (`*` matches any name) whose value is opaque data that Notary
   * never decodes into a typed field: a target's `custom` (notary-rules.md §2.5). There, as Go's
   * generic decoder reads it, a number written with a zero fraction or an exponent (`1.0`, `1e2`)
   * is the integer it equals, when that is exactly a safe integer; the canonical message then
   * holds that integer (notary-rules.md §5.3). Everywhere else only integer literals are numbers.
   */
  opaquePath?: readonly string[];
}

const CONTROL = /[\u0000-\u001f]/;

/**
 * Parses a JSON object and reports the raw span of the top-level member `member` (Notary's
 * `signed`). Used so that the signature message is taken straight from the file when the file
 * already holds it in canonical form — which every unescaped Notary file does.
 * @throws {TrustError} `ERR_METADATA_MALFORMED`
 */
export function parseStrictJsonWithSpan(
  bytes: Uint8Array,
  what: string,
  member: string,
  limits: ParseLimits = DEFAULT_PARSE_LIMITS,
  options: ParseOptions = {},
): { value: JsonValue; span: MemberSpan | undefined; indexed?: IndexedMembers } {
  const text = decodeUtf8(bytes, what);
  const fast = options.fastPath === false ? undefined : scanCanonical(text, member, limits.maxDepth, options.indexed);
  if (fast) {
    const entries = fast.entries;
    // The scan does not look inside strings for raw control characters, which JSON.parse
    // refuses; the indexed members are not parsed here, so rule those out first.
    const indexed = entries && !CONTROL.test(text.slice(entries.start, entries.end)) ? entries : undefined;
    let value: JsonValue | undefined;
    try {
      value = JSON.parse(indexed ? `${text.slice(0, indexed.start)}{}${text.slice(indexed.end)}` : text) as JsonValue;
    } catch {
      // Not valid JSON after all (e.g. a raw control character): the strict parser explains.
    }
    if (value !== undefined) {
      const span = fast.spanStart < 0 ? undefined : byteSpan(text, bytes, fast.spanStart, fast.spanEnd, true);
      return indexed ? { value, span, indexed: { ...indexed, text } } : { value, span };
    }
  }
  const { parser: p, value } = runParser(text, what, limits.maxDepth, member, options.opaquePath);
  const span = p.spanStart < 0 ? undefined : byteSpan(text, bytes, p.spanStart, p.spanEnd, p.spanCanonical);
  return { value, span };
}

/** Offsets in UTF-16 units of `text` as byte offsets of `bytes`: the prefix and suffix are small, so measure those. */
function byteSpan(text: string, bytes: Uint8Array, start: number, end: number, canonical: boolean): MemberSpan {
  return {
    start: Buffer.byteLength(text.slice(0, start), 'utf8'),
    end: bytes.length - Buffer.byteLength(text.slice(end), 'utf8'),
    canonical,
  };
}

/** Runs the strict parser over the whole text (one value, optional whitespace around it). */
function runParser(text: string, what: string, maxDepth: number, member?: string, opaquePath?: readonly string[]): { parser: Parser; value: JsonValue } {
  const parser = new Parser(text, what, maxDepth);
  parser.spanMember = member;
  parser.opaquePath = opaquePath;
  parser.skipWs();
  const value = parser.value(0);
  parser.skipWs();
  if (parser.i !== text.length) throw parser.fail('unexpected data after the JSON value');
  return { parser, value };
}

/** As {@link parseStrictJson}, for text already decoded. */
export function parseStrictJsonText(
  text: string,
  what: string,
  limits: ParseLimits = DEFAULT_PARSE_LIMITS,
): JsonValue {
  return runParser(text, what, limits.maxDepth).value;
}

const HIGH_UNITS = /[\ud800-\uffff]/;
const SLOW_STRING = /[\\\u0000-\u001f]/;
const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const NUMBER_PARTS = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/;

/**
 * The integer a decimal literal with a fraction or an exponent equals exactly, if it is a safe
 * integer (`1.0` → 1, `1e2` → 100, `2.50e1` → 25), else undefined (`1.5`, `1e-1`, `1e16`).
 * Exact: the digits are shifted, never rounded, so no two spellings of different values meet.
 */
export function integralValue(literal: string): number | undefined {
  const m = NUMBER_PARTS.exec(literal);
  if (!m) return undefined;
  const fraction = m[3] ?? '';
  let digits = ((m[2] as string) + fraction).replace(/^0+/, '');
  if (digits === '') return 0;
  let shift = Number(m[4] ?? '0') - fraction.length;
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  shift += trailing;
  // 17 digits or more are always beyond 2^53.
  if (shift < 0 || digits.length + shift > 16) return undefined;
  const n = Number(digits + '0'.repeat(shift));
  if (!Number.isSafeInteger(n)) return undefined;
  return m[1] === '-' ? -n : n;
}

class Parser {
  i = 0;
  /** Incremented whenever the text departs from canonical form. */
  deviations = 0;
  spanMember: string | undefined;
  spanStart = -1;
  spanEnd = -1;
  spanCanonical = false;
  /** See {@link ParseOptions.opaquePath}. */
  opaquePath: readonly string[] | undefined;
  /** How many leading names of `opaquePath` the current member path matches. */
  matched = 0;
  readonly s: string;
  readonly what: string;
  readonly maxDepth: number;
  constructor(s: string, what: string, maxDepth: number) {
    this.s = s;
    this.what = what;
    this.maxDepth = maxDepth;
  }

  fail(msg: string): TrustError {
    return malformed(`${this.what}: ${msg} at offset ${this.i}`, this.what);
  }

  skipWs(): void {
    const s = this.s;
    const from = this.i;
    let i = from;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    if (i !== from) this.deviations++;
    this.i = i;
  }

  value(depth: number): JsonValue {
    const c = this.s.charCodeAt(this.i);
    switch (c) {
      case 0x7b /* { */:
        return this.object(depth + 1);
      case 0x5b /* [ */:
        return this.array(depth + 1);
      case 0x22 /* " */:
        return this.string();
      case 0x74 /* t */:
        return this.literal('true', true);
      case 0x66 /* f */:
        return this.literal('false', false);
      case 0x6e /* n */:
        return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        throw this.fail(Number.isNaN(c) ? 'unexpected end of data' : 'unexpected character');
    }
  }

  literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) throw this.fail('unexpected character');
    this.i += word.length;
    return v;
  }

  number(): number {
    NUMBER_RE.lastIndex = this.i;
    const m = NUMBER_RE.exec(this.s);
    if (!m) throw this.fail('invalid number');
    if (m[1] !== undefined || m[2] !== undefined) return this.writtenAsFloat(m[0]);
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n)) throw this.fail(`integer ${m[0]} is beyond 2^53`);
    if (m[0] === '-0') this.deviations++;
    this.i += m[0].length;
    return n === 0 ? 0 : n; // -0 is written as 0 by Notary's encoder
  }

  /** `1.0` inside opaque data is the integer it equals, written canonically as such (so: a deviation). */
  writtenAsFloat(literal: string): number {
    const opaque = this.opaquePath !== undefined && this.matched === this.opaquePath.length;
    const n = opaque ? integralValue(literal) : undefined;
    if (n === undefined) {
      throw this.fail(
        opaque
          ? `number ${literal} is not exactly a safe integer (Notary's canonical JSON has integers only)`
          : `non-integer number ${literal} (Notary's canonical JSON allows integers only)`,
      );
    }
    this.deviations++;
    this.i += literal.length;
    return n === 0 ? 0 : n;
  }

  /** Entering member `key` of an object at `depth`: does the path still follow `opaquePath`? */
  follows(depth: number, key: string): boolean {
    const path = this.opaquePath;
    if (path === undefined || this.matched !== depth - 1 || depth > path.length) return false;
    const want = path[depth - 1];
    return want === '*' || want === key;
  }

  string(): string {
    const s = this.s;
    // Fast path: most strings (key IDs, hashes, tags) hold no escape and no control character.
    const close = s.indexOf('"', this.i + 1);
    if (close > 0) {
      const chunk = s.slice(this.i + 1, close);
      if (!SLOW_STRING.test(chunk)) {
        this.i = close + 1;
        return chunk;
      }
    }
    let i = this.i + 1;
    let start = i;
    let out = '';
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        out += s.slice(start, i);
        this.i = i + 1;
        return out;
      }
      if (c === 0x5c) {
        out += s.slice(start, i);
        const e = s.charCodeAt(i + 1);
        i += 2;
        if (e !== 0x22 && e !== 0x5c) this.deviations++;
        switch (e) {
          case 0x22: out += '"'; break;
          case 0x5c: out += '\\'; break;
          case 0x2f: out += '/'; break;
          case 0x62: out += '\b'; break;
          case 0x66: out += '\f'; break;
          case 0x6e: out += '\n'; break;
          case 0x72: out += '\r'; break;
          case 0x74: out += '\t'; break;
          case 0x75: {
            const hex = s.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
              this.i = i;
              throw this.fail('invalid \\u escape');
            }
            const u = parseInt(hex, 16);
            i += 4;
            if (u >= 0xd800 && u <= 0xdbff) {
              const lo = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})$/.exec(s.slice(i, i + 6));
              if (!lo?.[1]) {
                this.i = i;
                throw this.fail('unpaired surrogate escape');
              }
              out += String.fromCharCode(u, parseInt(lo[1], 16));
              i += 6;
            } else if (u >= 0xdc00 && u <= 0xdfff) {
              this.i = i;
              throw this.fail('unpaired surrogate escape');
            } else {
              out += String.fromCharCode(u);
            }
            break;
          }
          default:
            this.i = i - 1;
            throw this.fail('invalid escape');
        }
        start = i;
        continue;
      }
      if (Number.isNaN(c)) {
        this.i = i;
        throw this.fail('unterminated string');
      }
      if (c < 0x20) {
        this.i = i;
        throw this.fail('raw control character in string');
      }
      i++;
    }
  }

  array(depth: number): JsonValue[] {
    if (depth > this.maxDepth) throw this.fail(`nesting deeper than ${this.maxDepth}`);
    this.i++;
    const out: JsonValue[] = [];
    this.skipWs();
    if (this.s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return out;
    }
    for (;;) {
      this.skipWs();
      out.push(this.value(depth));
      this.skipWs();
      const c = this.s.charCodeAt(this.i++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) {
        this.i--;
        throw this.fail("expected ',' or ']'");
      }
    }
  }

  object(depth: number): JsonObject {
    if (depth > this.maxDepth) throw this.fail(`nesting deeper than ${this.maxDepth}`);
    this.i++;
    const out: JsonObject = {};
    this.skipWs();
    if (this.s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return out;
    }
    let prev: string | undefined;
    for (;;) {
      this.skipWs();
      if (this.s.charCodeAt(this.i) !== 0x22) throw this.fail('expected a member name');
      const keyAt = this.i;
      const key = this.string();
      if (Object.hasOwn(out, key)) {
        this.i = keyAt;
        throw this.fail(`duplicate member ${JSON.stringify(key)}`);
      }
      // UTF-16 order equals code point order unless both strings reach U+D800 and above.
      if (prev !== undefined && (prev > key || HIGH_UNITS.test(key)) && compareCodePoints(prev, key) > 0) this.deviations++;
      prev = key;
      this.skipWs();
      if (this.s.charCodeAt(this.i++) !== 0x3a) {
        this.i--;
        throw this.fail("expected ':'");
      }
      this.skipWs();
      const matched = this.matched;
      if (this.follows(depth, key)) this.matched = depth;
      if (depth === 1 && key === this.spanMember) {
        const before = this.deviations;
        this.spanStart = this.i;
        out[key] = this.value(depth);
        this.spanEnd = this.i;
        this.spanCanonical = this.deviations === before;
      } else if (key === '__proto__') {
        Object.defineProperty(out, key, { value: this.value(depth), enumerable: true, writable: true, configurable: true });
      } else {
        out[key] = this.value(depth);
      }
      this.matched = matched;
      this.skipWs();
      const c = this.s.charCodeAt(this.i++);
      if (c === 0x7d) return out;
      if (c !== 0x2c) {
        this.i--;
        throw this.fail("expected ',' or '}'");
      }
    }
  }
}
