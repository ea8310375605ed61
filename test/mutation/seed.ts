/**
 * Setup file of vitest.mutation.config.ts: under mutation every fast-check property runs from one
 * fixed seed, so a mutant that a property kills is killed again on the next (incremental) run and
 * a survivor is not an accident of the random draw. TRUSTGATE_FC_SEED overrides the seed.
 */
import fc from 'fast-check';

const raw = process.env['TRUSTGATE_FC_SEED'] ?? '20261202';
const seed = Number(raw);
if (!Number.isSafeInteger(seed)) throw new Error(`TRUSTGATE_FC_SEED must be an integer, got ${raw}`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
