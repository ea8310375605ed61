/**
 * Structure-aware fuzzing of the whole verifier (issue 6): real vectors are mutated byte by byte
 * and field by field. Properties: every failure is a TrustError (no crash, no hang), and a
 * verification that succeeds never rests on a changed `signed` value.
 *
 * Quick profile in `npm test`; the long one is `npm run fuzz:long` (FUZZ_RUNS, default 1,000,000
 * inputs), whose last result is recorded in docs/SECURITY.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assertInChunks } from './chunked.js';
import { verifyRepository } from '../../src/verify/repository.js';
import { isTrustError } from '../../src/errors.js';
import { canonicalString } from '../../src/json/canonical.js';
import { parseStrictJson, type JsonObject, type JsonValue } from '../../src/json/strict-parse.js';
import { scenario, VECTORS } from '../helpers/vectors.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 250);
const SEED = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);
const TIMEOUT = Math.max(60_000, RUNS * 20);

interface Corpus {
  name: string;
  gun: string;
  now: Date;
  files: Record<string, Uint8Array>;
  /** Canonical text of each role's `signed`, as verified. */
  signed: Record<string, string>;
}

function load(name: string, gun: string, now: Date, metadataDir: string, roles: string[]): Corpus {
  const files: Record<string, Uint8Array> = {};
  const signed: Record<string, string> = {};
  for (const r of roles) {
    files[r] = new Uint8Array(readFileSync(join(metadataDir, `${r}.json`)));
    signed[r] = canonicalString((parseStrictJson(files[r], r) as JsonObject)['signed'] as JsonValue);
  }
  return { name, gun, now, files, signed };
}

const deleg = scenario('delegation');
const corpora: Corpus[] = [
  load('generated/base-valid', 'example.com/trustgate/repo', new Date('2030-01-01T00:00:00Z'), join(VECTORS, 'generated', 'base-valid', 'metadata'),
    ['root', 'timestamp', 'snapshot', 'targets', 'targets/releases', 'targets/a', 'targets/a/b', 'targets/c']),
  load('notary-0.7.0/delegation', deleg.gun, deleg.now, deleg.metadataDir,
    ['root', 'timestamp', 'snapshot', 'targets', 'targets/releases', 'targets/alice']),
];

/** Verifies a corpus with one file replaced; checks the two properties. */
function check(c: Corpus, role: string, bytes: Uint8Array | undefined): void {
  const files = { ...c.files, [role]: bytes };
  try {
    verifyRepository({ gun: c.gun, now: c.now, source: (r) => (Object.hasOwn(files, r) ? files[r] : undefined) });
  } catch (e) {
    if (!isTrustError(e)) throw e;
    return;
  }
  // Success is allowed only when the signed content is unchanged (e.g. a mutated signature
  // method's case, or bytes outside `signed` of an unhashed timestamp).
  const doc = parseStrictJson(bytes as Uint8Array, role) as JsonObject;
  expect(canonicalString(doc['signed'] as JsonValue), `${c.name}: ${role} verified with changed signed content`).toBe(c.signed[role]);
}

const corpusArb = fc.constantFrom(...corpora);
const roleOf = (c: Corpus) => fc.constantFrom(...Object.keys(c.files));

/** Field-level mutations of a parsed JSON value. */
type Mutation = { path: number[]; op: 'delete' | 'replace' | 'dup-case' | 'wrap' ; value: JsonValue };
const jsonLeaf: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string(),
  fc.constantFrom('', 'targets/../root', 'TARGETS', '2035-01-01T00:00:00Z', '2000-01-01T00:00:00Z', 'ecdsa', 'eddsa', 'rsapss', 'AAAA', '\u0000', '<script>'),
);

function mutate(v: JsonValue, m: Mutation, depth = 0): JsonValue {
  if (v === null || typeof v !== 'object') return m.op === 'wrap' ? [v] : m.value;
  const entries: [string | number, JsonValue][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  if (entries.length === 0) return m.value;
  const idx = (m.path[depth] ?? 0) % entries.length;
  const [key, child] = entries[idx] as [string | number, JsonValue];
  const stop = depth >= m.path.length - 1;
  if (Array.isArray(v)) {
    const copy = [...v];
    if (stop && m.op === 'delete') copy.splice(idx, 1);
    else copy[idx] = stop && m.op !== 'wrap' ? m.value : mutate(child, m, depth + 1);
    return copy;
  }
  const copy: JsonObject = Object.create(null) as JsonObject;
  for (const [k, x] of Object.entries(v)) copy[k] = x;
  const k = key as string;
  if (stop && m.op === 'delete') delete copy[k];
  else if (stop && m.op === 'dup-case') copy[k.toUpperCase() === k ? k.toLowerCase() : k.toUpperCase()] = m.value;
  else copy[k] = stop && m.op !== 'wrap' ? m.value : mutate(child, m, depth + 1);
  return copy;
}

describe(`fuzzing the verifier with mutated real vectors (${RUNS} runs per property)`, () => {
  it('byte flips, inserts and truncations: TrustError or unchanged signed content', async () => {
    await assertInChunks(
      fc.property(
        corpusArb.chain((c) => fc.tuple(fc.constant(c), roleOf(c), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate'))),
        ([c, role, pos, byte, op]) => {
          const orig = c.files[role] as Uint8Array;
          const at = pos % orig.length;
          let out: Uint8Array;
          if (op === 'flip') (out = Uint8Array.from(orig))[at] = (orig[at] as number) ^ (1 << (byte % 8));
          else if (op === 'set') (out = Uint8Array.from(orig))[at] = byte;
          else if (op === 'insert') out = Uint8Array.from([...orig.subarray(0, at), byte, ...orig.subarray(at)]);
          else if (op === 'delete') out = Uint8Array.from([...orig.subarray(0, at), ...orig.subarray(at + 1)]);
          else out = orig.subarray(0, at);
          check(c, role, out);
        },
      ),
      RUNS, SEED,
    );
  }, TIMEOUT);

  it('field edits inside signed and signatures, re-serialized compactly: TrustError or unchanged signed content', async () => {
    await assertInChunks(
      fc.property(
        corpusArb.chain((c) =>
          fc.tuple(
            fc.constant(c),
            roleOf(c),
            fc.record({
              path: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
              op: fc.constantFrom('delete', 'replace', 'dup-case', 'wrap'),
              value: jsonLeaf,
            }),
          ),
        ),
        ([c, role, m]) => {
          const doc = JSON.parse(Buffer.from(c.files[role] as Uint8Array).toString('utf8')) as JsonValue;
          let text: string;
          try {
            text = JSON.stringify(mutate(doc, m as Mutation));
          } catch {
            return;
          }
          check(c, role, new Uint8Array(Buffer.from(text, 'utf8')));
        },
      ),
      RUNS, SEED,
    );
  }, TIMEOUT);

  it('whole files replaced by another role, by nothing, or by random JSON: always a TrustError', async () => {
    await assertInChunks(
      fc.property(
        corpusArb.chain((c) => fc.tuple(fc.constant(c), roleOf(c), roleOf(c), fc.oneof(fc.constant('swap'), fc.constant('missing'), fc.jsonValue()))),
        ([c, role, other, what]) => {
          if (what === 'swap' && role === other) return;
          const bytes =
            what === 'swap' ? c.files[other] : what === 'missing' ? undefined : new Uint8Array(Buffer.from(JSON.stringify(what) ?? 'null'));
          const files = { ...c.files, [role]: bytes };
          let caught: unknown;
          try {
            verifyRepository({ gun: c.gun, now: c.now, source: (r) => (Object.hasOwn(files, r) ? files[r] : undefined) });
          } catch (e) {
            caught = e;
          }
          // A TrustError with one of the documented codes, never a crash or a pass.
          expect(isTrustError(caught), String(caught)).toBe(true);
        },
      ),
      Math.ceil(RUNS / 2), SEED,
    );
  }, TIMEOUT);

  it('the unmutated corpora verify (the properties above are not vacuous)', () => {
    // Directly, not through check(), which treats any TrustError as an acceptable outcome.
    for (const c of corpora) {
      const repo = verifyRepository({ gun: c.gun, now: c.now, source: (r) => (Object.hasOwn(c.files, r) ? c.files[r] : undefined) });
      expect([...repo.roles.keys()].sort(), c.name).toEqual(Object.keys(c.files).filter((r) => r.startsWith('targets')).sort());
    }
  });
});
