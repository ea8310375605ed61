/**
 * A canonical targets file's `targets` is not built as objects: the parser leaves it as text
 * with member offsets, each entry is checked in place, and lookups binary-search the names.
 * These tests hold that path to what building the object and checking it with the schema gives.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../src/json/canonical.js';
import { parseStrictJsonWithSpan, type IndexedMembers, type JsonObject, type JsonValue } from '../../src/json/strict-parse.js';
import { readDocument } from '../../src/tuf/document.js';
import { fileMetaMapSchema, fileMetaProblem, type FileMetaJson } from '../../src/tuf/schema.js';
import { isPlainFileMeta, targetMapFromIndex, targetMapFromRecord, type TargetMap } from '../../src/tuf/target-map.js';
import { compareCodePoints } from '../../src/json/canonical-order.js';
import { integerJson } from '../helpers/arbitraries.js';
import { VECTORS, expectTrustError, scenarios } from '../helpers/vectors.js';

const envelope = (targetsText: string) =>
  `{"signed":{"_type":"Targets","expires":"2100-01-01T00:00:00Z","targets":${targetsText},"version":1},"signatures":[]}`;

function parse(text: string) {
  return parseStrictJsonWithSpan(new Uint8Array(Buffer.from(text, 'utf8')), 'targets.json', 'signed', { maxDepth: 64 }, { indexed: 'targets' });
}

/** What the schema path says about a built `targets` object: undefined when it accepts it. */
function schemaVerdict(targets: unknown): string | undefined {
  const r = fileMetaMapSchema.safeParse(targets);
  return r.success ? undefined : r.error.issues[0]?.message;
}

/** The index path's verdict in the same words, and the map when it accepts. */
function indexVerdict(indexed: IndexedMembers): { problem?: string; map?: TargetMap } {
  try {
    return { map: targetMapFromIndex(indexed, 'targets.json', 'targets') };
  } catch (e) {
    return { problem: (e as Error).message.replace(/^targets\.json: targets: /, '') };
  }
}

function expectSameMap(map: TargetMap, targets: Record<string, FileMetaJson>) {
  const names = Object.keys(targets).sort(compareCodePoints);
  expect([...map.keys()]).toEqual(names);
  expect(map.size).toBe(names.length);
  expect(Object.fromEntries(map)).toEqual(targets);
  expect(JSON.parse(JSON.stringify(map))).toEqual(JSON.parse(JSON.stringify(targets)));
  for (const n of names) {
    expect(map.has(n)).toBe(true);
    expect(map.get(n)).toEqual(targets[n]);
    // Near misses must not be found: prefixes, extensions and case changes.
    for (const miss of [n.slice(0, -1), `${n}\u0000`, `${n}a`, n.toUpperCase(), n.toLowerCase()]) {
      if (!Object.hasOwn(targets, miss)) {
        expect(map.has(miss), JSON.stringify(miss)).toBe(false);
        expect(map.get(miss)).toBeUndefined();
      }
    }
  }
}

const b64 = fc.uint8Array({ maxLength: 70 }).map((b) => Buffer.from(b).toString('base64'));
const plainMeta = fc.record({
  hashes: fc.dictionary(fc.constantFrom('sha256', 'sha512', 'md5', '__proto__', 'SHA256'), b64, { maxKeys: 3 }),
  length: fc.nat(),
});
/** Entries that are almost what Notary writes, and some that are anything. */
const oddMeta = fc.oneof(
  plainMeta.map((m) => ({ ...m, custom: { a: 1 } })),
  plainMeta.map((m) => ({ ...m, length: -m.length - 1 })),
  plainMeta.map((m) => ({ hashes: { sha256: 'YR==' }, length: m.length })),
  plainMeta.map((m) => ({ Length: 1, ...m })),
  plainMeta.map((m) => ({ hashes: m.hashes })),
  plainMeta.map((m) => ({ ...m, hashes: { sha256: 7 } })),
  plainMeta.map((m) => ({ ...m, hashes: [m.hashes] })),
  plainMeta.map((m) => ({ ...m, extra: 'x' })),
  integerJson('binary'),
);
// Names without characters that canonical JSON escapes, so the file is canonical as written.
const name = fc.string({ unit: fc.oneof(fc.constantFrom('a', 'B', '1', '/', '-', ':', '<', 'é', '\ufb01', '\u{1f600}'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) }).filter((s) => !/["\\\u0000-\u001f]/.test(s));

describe('targets left as text ≡ targets built and checked', () => {
  it('accepts and refuses the same entries, and answers the same lookups (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(name, fc.oneof({ weight: 4, arbitrary: plainMeta }, { weight: 1, arbitrary: oddMeta }), { maxKeys: 12 }), (targets) => {
        const text = envelope(canonicalString(targets as JsonValue));
        if (/[\u0000-\u001f]/.test(text)) {
          // Canonical form writes control characters raw, and JSON refuses them: no index.
          const e = expectTrustError(() => parse(text), 'ERR_METADATA_MALFORMED');
          expect(e.message).toMatch(/raw control character/);
          return;
        }
        const { value, indexed } = parse(text);
        expect(indexed, 'a canonical file must take the index path').toBeDefined();
        expect(((value as JsonObject)['signed'] as JsonObject)['targets']).toEqual({});
        const built = (JSON.parse(text) as { signed: { targets: Record<string, unknown> } }).signed.targets;
        const expected = schemaVerdict(built);
        const got = indexVerdict(indexed as IndexedMembers);
        // Both refuse or both accept. With several bad entries the two may name different ones
        // (object order puts integer-like names first), so the one named must be a bad one.
        expect(got.problem === undefined).toBe(expected === undefined);
        if (got.problem !== undefined) {
          const problems = Object.entries(built).flatMap(([n, v]) => {
            const p = fileMetaProblem(v);
            return p === undefined ? [] : [`${JSON.stringify(n)}: ${p}`];
          });
          expect(problems).toContain(got.problem);
          expect(problems).toContain(expected);
        }
        if (got.map) expectSameMap(got.map, targets as Record<string, FileMetaJson>);
      }),
      { numRuns: 1500 },
    );
  });

  it('checks every entry in place exactly as the schema does', () => {
    const cases = [
      '{"hashes":{"sha256":"YQ=="},"length":1}',
      '{"hashes":{},"length":0}',
      '{"hashes":{"sha256":"YR=="},"length":1}',
      '{"hashes":{"sha256":"YQ=="},"length":-1}',
      '{"hashes":{"sha256":"YQ"},"length":1}',
      '{"hashes":{"sha256":1},"length":1}',
      '{"hashes":{"sha256":{}},"length":1}',
      '{"hashes":[],"length":1}',
      '{"hashes":null,"length":1}',
      '{"hashes":{"sha256":"YQ=="},"length":"1"}',
      '{"hashes":{"sha256":"YQ=="}}',
      '{"Length":1,"hashes":{"sha256":"YQ=="},"length":1}',
      '{"hashes":{"sha256":"YQ=="},"length":1,"\u017fx":1}',
      '{"custom":{"a":[1,{"b":null}]},"hashes":{"sha256":"YQ=="},"length":1}',
      '{"hashes":{"a":"YQ==","b":"YWI="},"length":9007199254740991}',
      '[]',
      '"x"',
      'null',
      '7',
    ];
    for (const entry of cases) {
      const { indexed } = parse(envelope(`{"t":${entry}}`));
      expect(indexed, entry).toBeDefined();
      const problem = fileMetaProblem(JSON.parse(entry));
      expect(indexVerdict(indexed as IndexedMembers).problem, entry).toBe(problem === undefined ? undefined : `"t": ${problem}`);
    }
  });

  it('orders names by code point, as Notary sorts them: U+FB01 before U+1F600', () => {
    const targets = { '\u{1f600}': { hashes: {}, length: 2 }, '\ufb01': { hashes: {}, length: 1 }, z: { hashes: {}, length: 3 } };
    const { indexed } = parse(envelope(canonicalString(targets)));
    const map = targetMapFromIndex(indexed as IndexedMembers, 'targets.json', 'targets');
    expect([...map.keys()]).toEqual(['z', '\ufb01', '\u{1f600}']);
    expectSameMap(map, targets);
    expect([...targetMapFromRecord(targets).keys()]).toEqual(['z', '\ufb01', '\u{1f600}']);
  });

  it('leaves non-canonical files, and files whose targets are not an object, to the built path', () => {
    for (const text of [
      envelope('{"a":{"hashes":{},"length":1}}').replace('"signed":', '"signed": '),
      envelope('{"a\\u003c":{"hashes":{},"length":1}}'),
      envelope('{"b":{"hashes":{},"length":1},"a":{"hashes":{},"length":1}}'),
      envelope('null'),
      envelope('[]'),
    ]) {
      expect(parse(text).indexed, text).toBeUndefined();
    }
    // A raw control character inside the targets text: the strict parser refuses the file.
    expectTrustError(() => parse(envelope('{"a":"\u0001"}')), 'ERR_METADATA_MALFORMED');
  });

  it('a record map of a built object answers like a Map and hides the prototype', () => {
    const targets = JSON.parse('{"__proto__":{"hashes":{},"length":1},"10":{"hashes":{},"length":2},"9":{"hashes":{},"length":3}}') as Record<string, FileMetaJson>;
    const map = targetMapFromRecord(targets);
    expect([...map.keys()]).toEqual(['10', '9', '__proto__']);
    expect(map.get('__proto__')?.length).toBe(1);
    expect(map.has('constructor')).toBe(false);
    expect(map.get('toString')).toBeUndefined();
    expect(new Map(map)).toEqual(new Map([['10', targets['10']], ['9', targets['9']], ['__proto__', targets['__proto__']]]));
  });

  it('every targets file of the real-Notary and generated vectors reads the same both ways', () => {
    const dirs = [
      ...scenarios().map((s) => s.metadataDir),
      ...readdirSync(join(VECTORS, 'generated'), { withFileTypes: true })
        .filter((e) => e.isDirectory() && e.name !== 'keys')
        .map((e) => join(VECTORS, 'generated', e.name, 'metadata')),
    ];
    let indexedFiles = 0;
    let builtFiles = 0;
    const targetsFiles = (dir: string, sub = ''): string[] =>
      readdirSync(join(dir, sub), { withFileTypes: true }).flatMap((e) => {
        const rel = sub ? `${sub}/${e.name}` : e.name;
        if (e.isDirectory()) return targetsFiles(dir, rel);
        return rel === 'targets.json' || rel.startsWith('targets/') ? [rel] : [];
      });
    for (const dir of dirs) {
      for (const rel of targetsFiles(dir)) {
        const bytes = new Uint8Array(readFileSync(join(dir, rel)));
        let doc;
        try {
          doc = readDocument(bytes, rel.slice(0, -5), { maxDepth: 64, indexed: 'targets' });
        } catch {
          continue; // a malformed vector: the verifier tests cover its refusal
        }
        const built = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { signed: { targets: unknown } }).signed.targets;
        if (!doc.indexed) {
          builtFiles++;
          continue;
        }
        indexedFiles++;
        const got = indexVerdict(doc.indexed);
        expect(got.problem, `${dir}/${rel}`).toBe(schemaVerdict(built));
        if (got.map) expectSameMap(got.map, built as Record<string, FileMetaJson>);
      }
    }
    // Both paths must actually have run: Notary files are canonical unless they escape `<>&`.
    expect(indexedFiles).toBeGreaterThan(50);
    expect(builtFiles).toBeGreaterThan(0);
  });
});

describe('isPlainFileMeta: the in-place check takes exactly the entries Notary writes', () => {
  /** Independently: exactly `hashes` and `length`, and the schema accepts it. */
  const plain = (v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).sort().join() === 'hashes,length' && fileMetaProblem(v) === undefined;
  /** The entry inside other text, so offsets past `end` or before `start` would show. */
  const judge = (entry: string) => {
    const before = '{"a":"x\\"","t":';
    const text = `${before}${entry},"u":{"hashes":{"sha256":"YQ=="},"length":1},"v":"}"}`;
    return isPlainFileMeta(text, before.length, before.length + entry.length);
  };
  it('named entries', () => {
    const cases: [string, boolean][] = [
      ['{"hashes":{"sha256":"YQ=="},"length":1}', true],
      ['{"hashes":{},"length":0}', true],
      ['{"hashes":{"a":"YQ==","b":"YWI="},"length":9007199254740991}', true],
      ['{"hashes":{"sha256":"YR=="},"length":1}', false],
      ['{"hashes":{"sha256":"YQ"},"length":1}', false],
      ['{"hashes":{"a":"YQ==","b":"Y!=="},"length":1}', false],
      ['{"hashes":{"sha256":"YQ=="},"length":-1}', false],
      ['{"hashes":{"sha256":"YQ=="},"length":"1"}', false],
      ['{"hashes":{"sha256":1},"length":1}', false],
      ['{"hashes":{"sha256":"YQ=="}}', false],
      ['{"hashes":{"sha256":"YQ=="},"length":1,"x":1}', false],
      ['{"custom":1,"hashes":{"sha256":"YQ=="},"length":1}', false],
      ['{"hashes":{"sha256":"YQ==","x":{}},"length":1}', false],
      ['{"hashes":[],"length":1}', false],
      ['{"length":1}', false],
      ['[]', false],
      // Canonical near misses, each one character from a plain entry: another first member, another
      // last member, a length that is no number.
      ['{"hashez":{"sha256":"YQ=="},"length":1}', false],
      ['{"hashes":{"sha256":"YQ=="},"lengtx":1}', false],
      ['{"hashes":{"sha256":"YQ=="},"length":true}', false],
      ['{"hashes":{"sha256":"YQ=="},"length":null}', false],
    ];
    for (const [entry, want] of cases) {
      expect(plain(JSON.parse(entry)), `independent verdict on ${entry}`).toBe(want);
      expect(judge(entry), entry).toBe(want);
    }
  });
  it('any canonical entry, plain or odd (property)', () => {
    fc.assert(
      fc.property(fc.oneof(plainMeta, oddMeta), (v) => {
        const entry = canonicalString(v);
        expect(judge(entry), entry).toBe(plain(v));
      }),
      { numRuns: 400 },
    );
  });
});

describe('both maps answer the Map interface the same way', () => {
  const text = envelope('{"a":{"hashes":{"sha256":"AA=="},"length":1},"b":{"hashes":{},"length":2},"c":{"custom":{"x":1},"hashes":{},"length":3}}');
  const indexed = parse(text).indexed as IndexedMembers;
  const built = ((JSON.parse(text) as { signed: JsonObject }).signed['targets']) as unknown as Record<string, FileMetaJson>;
  it.each([
    ['index', () => targetMapFromIndex(indexed, 'targets.json', 'targets')],
    ['record', () => targetMapFromRecord(built)],
  ])('%s', (_, make) => {
    const map = make();
    expect(Object.prototype.toString.call(map)).toBe('[object TargetMap]');
    expect(Object.keys(map)).toEqual([]);
    expect(map.size).toBe(3);
    expect([...map.values()].map((v) => v.length)).toEqual([1, 2, 3]);
    expect([...map.entries()].map(([k, v]) => [k, v.length])).toEqual([['a', 1], ['b', 2], ['c', 3]]);
    const seen: unknown[] = [];
    const self = { tag: 'this' };
    map.forEach(function (this: unknown, v, k, m) {
      seen.push([k, v.length, m === map, this]);
    }, self);
    expect(seen).toEqual([['a', 1, true, self], ['b', 2, true, self], ['c', 3, true, self]]);
    expect(JSON.stringify(map)).toBe(JSON.stringify(built));
    expect(map.get('c')).toEqual({ custom: { x: 1 }, hashes: {}, length: 3 });
    for (const miss of ['', 'A', 'aa', 'd', '0', '\u{1f600}']) {
      expect(map.has(miss), miss).toBe(false);
      expect(map.get(miss), miss).toBeUndefined();
    }
  });
  it('the first bad entry is named, with role and check', () => {
    const bad = parse(envelope('{"a":{"hashes":{},"length":1},"b":{"hashes":{},"length":-1}}')).indexed as IndexedMembers;
    expect(() => targetMapFromIndex(bad, 'targets.json', 'targets/x')).toThrow(
      expect.objectContaining({ code: 'ERR_METADATA_MALFORMED', role: 'targets/x', check: 'metadata types', message: expect.stringMatching(/^targets\.json: targets: "b": /) }),
    );
  });
});
