/**
 * Fuzzing the text path for `targets` on its own. In the whole-verifier fuzz a changed targets
 * file dies at the snapshot hash before it is parsed, but a delegate holding its own key can
 * sign any bytes into its file, so the parser must get every file right. Property: for any
 * mutation of a real targets file, reading it with `targets` left as text (entries checked in
 * place, lookups over the text) and reading it with the strict parser into built objects
 * checked by the schema give the same outcome: the same error code, or the same map.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { assertInChunks } from './chunked.js';
import { describe, expect, it } from 'vitest';
import { isTrustError } from '../../src/errors.js';
import { parseStrictJsonWithSpan, type JsonObject } from '../../src/json/strict-parse.js';
import { readDocument } from '../../src/tuf/document.js';
import { parseEnvelope, parseSigned, targetsSignedSchema } from '../../src/tuf/schema.js';
import { targetMapFromIndex, targetMapFromRecord, type TargetMap } from '../../src/tuf/target-map.js';
import { scenario, VECTORS } from '../helpers/vectors.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 250);
const SEED = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);
const TIMEOUT = Math.max(60_000, RUNS * 5);

const files: { name: string; bytes: Uint8Array }[] = [];
const add = (dir: string, roles: string[], label: string) => {
  for (const r of roles) files.push({ name: `${label}/${r}`, bytes: new Uint8Array(readFileSync(join(dir, `${r}.json`))) });
};
add(join(VECTORS, 'generated', 'base-valid', 'metadata'), ['targets', 'targets/releases', 'targets/a', 'targets/a/b', 'targets/c'], 'generated/base-valid');
add(scenario('delegation').metadataDir, ['targets', 'targets/releases', 'targets/alice'], 'notary-0.7.0/delegation');
add(scenario('edge').metadataDir, ['targets'], 'notary-0.7.0/edge');

type Outcome = { code: string } | { targets: [string, unknown][]; indexed: boolean };

function outcome(read: () => { signed: JsonObject; map: (signed: JsonObject) => TargetMap; indexed: boolean }): Outcome {
  try {
    const { signed, map, indexed } = read();
    parseSigned(targetsSignedSchema, signed, 'targets', 'targets.json', 'targets');
    return { targets: [...map(signed)], indexed };
  } catch (e) {
    if (!isTrustError(e)) throw e;
    return { code: e.code };
  }
}

/** The verifier's path: canonical files keep `targets` as text. */
const asText = (bytes: Uint8Array) =>
  outcome(() => {
    const doc = readDocument(bytes, 'targets', { maxDepth: 64, indexed: 'targets' });
    const indexed = doc.indexed;
    return {
      signed: doc.envelope.signed,
      indexed: indexed !== undefined,
      map: (signed) => (indexed ? targetMapFromIndex(indexed, 'targets.json', 'targets') : targetMapFromRecord(signed['targets'] as never)),
    };
  });

/** The reference: the strict parser builds every object, the schema checks them. */
const built = (bytes: Uint8Array) =>
  outcome(() => {
    const { value } = parseStrictJsonWithSpan(bytes, 'targets.json', 'signed', { maxDepth: 64 }, { fastPath: false });
    const signed = parseEnvelope(value, 'targets.json', 'targets').signed;
    return { signed, indexed: false, map: (s) => targetMapFromRecord(s['targets'] as never) };
  });

const same = (a: Outcome, b: Outcome) => {
  if ('code' in a || 'code' in b) expect(a).toEqual(b);
  else expect(a.targets).toEqual(b.targets);
};

describe(`fuzzing targets left as text against built objects (${RUNS} runs)`, () => {
  it('the unmutated files take the text path and agree', () => {
    let indexed = 0;
    for (const f of files) {
      const a = asText(f.bytes);
      same(a, built(f.bytes));
      if ('indexed' in a && a.indexed) indexed++;
    }
    // The edge scenario escapes `<>&`, so it is built; the others are canonical.
    expect(indexed).toBe(files.length - 1);
  });

  it(
    'byte mutations: same error code or same targets',
    async () => {
      await assertInChunks(
        fc.property(
          fc.constantFrom(...files),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 3 }),
          (f, edits) => {
            let out = Uint8Array.from(f.bytes);
            for (const [pos, byte, op] of edits) {
              const at = pos % Math.max(1, out.length);
              if (op === 'set') out[at] = byte;
              else if (op === 'insert') out = Uint8Array.from([...out.subarray(0, at), byte, ...out.subarray(at)]);
              else out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + 1)]);
            }
            same(asText(out), built(out));
          },
        ),
        RUNS, SEED,
      );
    },
    TIMEOUT,
  );

  it(
    'text edits aimed at entries (quotes, digits, braces, names): same error code or same targets',
    async () => {
      // Printable edits that keep most files parseable, so the entry checks are what decides.
      const pieces = ['"', '}', '{', ',', ':', '-', '0', '9', 'A', '=', '"length":', '"hashes":', '"custom":', '{"x":1}', '[]', 'null', '"YR=="', 'ſ', 'K'];
      await assertInChunks(
        fc.property(fc.constantFrom(...files), fc.nat(), fc.nat({ max: 3 }), fc.constantFrom(...pieces), (f, pos, drop, piece) => {
          const text = Buffer.from(f.bytes).toString('utf8');
          const at = pos % text.length;
          const out = new Uint8Array(Buffer.from(text.slice(0, at) + piece + text.slice(at + drop), 'utf8'));
          same(asText(out), built(out));
        }),
        RUNS, SEED,
      );
    },
    TIMEOUT,
  );
});
