/**
 * The `targets` member of a verified targets role, as a read-only map of name → FileMeta.
 *
 * A Notary-written targets file is canonical, so its `targets` object need not be built: the
 * parser leaves it as text with the offsets of each member (names in strictly increasing code
 * point order, proven by the scan). Each entry is checked once here and then dropped; lookups
 * binary-search the names and parse the one entry asked for. A 100k-target repository then
 * costs its text and 8 bytes per target instead of five JS objects per target. Files that are
 * not canonical (pretty-printed, escaped names) keep the parsed object.
 */
import { TrustError } from '../errors.js';
import { compareCodePoints } from '../json/canonical-order.js';
import type { IndexedMembers } from '../json/strict-parse.js';
import { isCanonicalBase64At } from './base64.js';
import { fileMetaProblem, type FileMetaJson } from './schema.js';

/**
 * Targets of one role by name, iterated in code point order of the names (the order Notary
 * writes them). Values are parsed on each read from verified bytes (or shared with the parsed
 * file): treat them as read-only.
 */
export type TargetMap = ReadonlyMap<string, FileMetaJson>;

abstract class TargetMapBase implements TargetMap {
  abstract get size(): number;
  abstract get(name: string): FileMetaJson | undefined;
  abstract has(name: string): boolean;
  protected abstract nameAt(i: number): string;
  protected abstract valueAt(i: number): FileMetaJson;

  *keys(): MapIterator<string> {
    for (let i = 0; i < this.size; i++) yield this.nameAt(i);
  }
  *values(): MapIterator<FileMetaJson> {
    for (let i = 0; i < this.size; i++) yield this.valueAt(i);
  }
  *entries(): MapIterator<[string, FileMetaJson]> {
    for (let i = 0; i < this.size; i++) yield [this.nameAt(i), this.valueAt(i)];
  }
  [Symbol.iterator](): MapIterator<[string, FileMetaJson]> {
    return this.entries();
  }
  forEach(callback: (value: FileMetaJson, key: string, map: TargetMap) => void, thisArg?: unknown): void {
    for (let i = 0; i < this.size; i++) callback.call(thisArg, this.valueAt(i), this.nameAt(i), this);
  }
  get [Symbol.toStringTag](): string {
    return 'TargetMap';
  }
  /** `JSON.stringify` gives the object form the file holds. */
  toJSON(): Record<string, FileMetaJson> {
    const out: Record<string, FileMetaJson> = {};
    for (let i = 0; i < this.size; i++) Object.defineProperty(out, this.nameAt(i), { value: this.valueAt(i), enumerable: true, writable: true, configurable: true });
    return out;
  }
}

/** Over the parsed object (already checked by the schema). */
class RecordTargetMap extends TargetMapBase {
  readonly #size: number;
  readonly #record: Readonly<Record<string, FileMetaJson>>;
  readonly #names: readonly string[];
  constructor(record: Readonly<Record<string, FileMetaJson>>) {
    super();
    this.#record = record;
    // Iterate in the order a canonical file lists them, whichever way the file was read (a JS
    // object would put integer-like names first).
    this.#names = Object.keys(record).sort(compareCodePoints);
    this.#size = this.#names.length;
  }
  // A getter, not an own property, so that `Object.keys(map)` is empty as for a Map.
  get size(): number {
    return this.#size;
  }
  get(name: string): FileMetaJson | undefined {
    return Object.hasOwn(this.#record, name) ? this.#record[name] : undefined;
  }
  has(name: string): boolean {
    return Object.hasOwn(this.#record, name);
  }
  protected nameAt(i: number): string {
    return this.#names[i] as string;
  }
  protected valueAt(i: number): FileMetaJson {
    return this.#record[this.#names[i] as string] as FileMetaJson;
  }
}

/** Over the text of a canonical file. */
class IndexedTargetMap extends TargetMapBase {
  readonly #size: number;
  readonly #text: string;
  readonly #offsets: Uint32Array;
  constructor(indexed: IndexedMembers) {
    super();
    this.#text = indexed.text;
    this.#offsets = indexed.offsets;
    this.#size = indexed.count;
  }
  get size(): number {
    return this.#size;
  }
  get(name: string): FileMetaJson | undefined {
    const i = this.#find(name);
    return i < 0 ? undefined : this.valueAt(i);
  }
  has(name: string): boolean {
    return this.#find(name) >= 0;
  }
  /** Binary search: the scan proved the names strictly increasing in code point order. */
  #find(name: string): number {
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareCodePoints(this.nameAt(mid), name);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
  #nameEnd(i: number): number {
    return this.#text.indexOf('"', (this.#offsets[2 * i] as number) + 1);
  }
  /** Public here: the entry check names the entry it refuses. */
  override nameAt(i: number): string {
    return this.#text.slice((this.#offsets[2 * i] as number) + 1, this.#nameEnd(i));
  }
  /** The raw text of entry `i`'s value. */
  valueText(i: number): string {
    return this.#text.slice(this.#nameEnd(i) + 2, this.#offsets[2 * i + 1]);
  }
  /** The problem with entry `i`'s value, or undefined, as the schema would judge it. */
  problemAt(i: number): string | undefined {
    const text = this.#text;
    const start = this.#nameEnd(i) + 2;
    const end = this.#offsets[2 * i + 1] as number;
    return isPlainFileMeta(text, start, end) ? undefined : entryProblem(text.slice(start, end));
  }
  protected valueAt(i: number): FileMetaJson {
    return JSON.parse(this.valueText(i)) as FileMetaJson;
  }
}

/** Wraps a `targets` object the schema has checked. */
export function targetMapFromRecord(record: Readonly<Record<string, FileMetaJson>>): TargetMap {
  return new RecordTargetMap(record);
}

/**
 * Checks every entry the parser left as text, as the schema checks a parsed `targets` object,
 * and returns the map over that text.
 * @throws {TrustError} `ERR_METADATA_MALFORMED` naming the first bad entry
 */
export function targetMapFromIndex(indexed: IndexedMembers, where: string, role: string): TargetMap {
  const map = new IndexedTargetMap(indexed);
  for (let i = 0; i < map.size; i++) {
    const problem = map.problemAt(i);
    if (problem !== undefined) {
      const name = map.nameAt(i);
      throw new TrustError('ERR_METADATA_MALFORMED', `${where}: targets: ${JSON.stringify(name)}: ${problem}`, {
        role,
        check: 'metadata types',
      });
    }
  }
  return map;
}

const HASHES_OPEN = '{"hashes":{';
const LENGTH_MEMBER = ',"length":';

/**
 * True when `text[start, end)` is the FileMeta Notary writes — `{"hashes":{"<alg>":"<base64>",
 * …},"length":<n>}` — with canonical base64 and a non-negative length. Checked in place, so
 * the common entry makes no garbage. False means "not proven": the entry is parsed and judged
 * by the schema's own check. The scan already proved the value well-formed and canonical (no
 * escapes, strictly ordered names, safe integers), which is what lets this read it with
 * `indexOf('"')`. Exported for its tests: a wrong "false" costs only speed, so they hold it to
 * exactly the entries Notary writes.
 */
export function isPlainFileMeta(text: string, start: number, end: number): boolean {
  if (!text.startsWith(HASHES_OPEN, start)) return false;
  let p = start + HASHES_OPEN.length;
  if (text.charCodeAt(p) !== 0x7d /* } */) {
    for (;;) {
      if (text.charCodeAt(p) !== 0x22 /* " */) return false;
      const nameClose = text.indexOf('"', p + 1);
      if (text.charCodeAt(nameClose + 1) !== 0x3a /* : */ || text.charCodeAt(nameClose + 2) !== 0x22) return false;
      const valueClose = text.indexOf('"', nameClose + 3);
      if (valueClose < 0 || valueClose >= end || !isCanonicalBase64At(text, nameClose + 3, valueClose)) return false;
      p = valueClose + 1;
      const c = text.charCodeAt(p);
      if (c === 0x7d) break;
      if (c !== 0x2c /* , */) return false;
      p++;
    }
  }
  if (!text.startsWith(LENGTH_MEMBER, p + 1)) return false;
  p += 1 + LENGTH_MEMBER.length;
  if (p >= end - 1 || text.charCodeAt(end - 1) !== 0x7d) return false;
  for (let q = p; q < end - 1; q++) {
    const c = text.charCodeAt(q);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function entryProblem(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Unreachable for text the scan accepted without control characters; refuse regardless.
    return 'not valid JSON';
  }
  return fileMetaProblem(value);
}
