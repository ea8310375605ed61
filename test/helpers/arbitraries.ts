/** fast-check arbitraries shared by the JSON tests. */
import fc from 'fast-check';
import type { JsonValue } from '../../src/json/strict-parse.js';

/** JSON values with integers only (Notary's canonical form has no other numbers). */
export function integerJson(unit: 'grapheme' | 'binary'): fc.Arbitrary<JsonValue> {
  return fc.letrec<{ v: JsonValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.string({ unit }),
      fc.array(tie('v'), { maxLength: 4 }),
      fc.dictionary(fc.string({ unit }), tie('v'), { maxKeys: 4 }),
    ),
  })).v;
}
