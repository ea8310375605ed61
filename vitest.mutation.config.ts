/**
 * The test set StrykerJS runs against each mutant (stryker.config.json, `npm run mutation`): the
 * core's own unit tests and the wings' pure decision tests. Left out on purpose: fuzz (slow, random
 * by design), interop and live suites (real notary/postgres servers), child-process and CLI suites
 * (they run dist/, which a mutant does not change), and the architecture test (it reads source
 * files, which Stryker instruments).
 */
import { defineConfig } from 'vitest/config';

/**
 * `MUTATION_TESTS` (comma-separated globs) narrows the set, for static mutants (module-level tables,
 * regexes and schemas: Stryker runs every test for each). A narrower set can only kill fewer, so
 * a score measured with it is a lower bound of the full set's (docs/SECURITY.md).
 */
const narrowed = process.env['MUTATION_TESTS']?.split(',').filter((g) => g !== '');

export default defineConfig({
  test: {
    include: narrowed ?? [
      'test/json/**/*.test.ts',
      'test/crypto/**/*.test.ts',
      'test/tuf/**/*.test.ts',
      'test/verify/**/*.test.ts',
      'test/errors.test.ts',
      'test/admission/decision.test.ts',
      'test/quarantine/service-view.test.ts',
      'test/quarantine/transitions.test.ts',
      'test/quarantine/scenarios.test.ts',
      'test/quarantine/visibility-rule.test.ts',
      'test/fetch/units.test.ts',
      // An in-test static server on 127.0.0.1 (no notary-server): the fetch's update rules.
      'test/fetch/update-rules.test.ts',
      // The same static server with the generated vectors: reuse, the delegation walk, rotation count, floors, pins.
      'test/fetch/generated-update.test.ts',
    ],
    // Both spawn dist/ (the vector generator, the CLI): a mutant in src/ cannot change what they run.
    exclude: ['test/verify/generator-check.test.ts', 'test/verify/resolve-agreement.test.ts'],
    setupFiles: ['test/mutation/seed.ts'],
    testTimeout: 60_000,
  },
});
