import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    errors: 'src/errors.ts',
    quarantine: 'src/quarantine/index.ts',
    'quarantine-postgres': 'src/store/postgres.ts',
    'quarantine-embedded': 'src/store/embedded.ts',
    admission: 'src/admission/index.ts',
    fetch: 'src/fetch/index.ts',
    gateway: 'src/gateway/index.ts',
    cli: 'src/cli/main.ts',
    // Loaded by createVerifierPool as a worker thread, never imported.
    'admission-worker': 'src/admission/worker.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: {
    entry: {
      index: 'src/index.ts',
      errors: 'src/errors.ts',
      quarantine: 'src/quarantine/index.ts',
      'quarantine-postgres': 'src/store/postgres.ts',
      'quarantine-embedded': 'src/store/embedded.ts',
      admission: 'src/admission/index.ts',
      fetch: 'src/fetch/index.ts',
      gateway: 'src/gateway/index.ts',
    },
  },
  splitting: true,
  sourcemap: true,
  clean: true,
  treeshake: true,
});
