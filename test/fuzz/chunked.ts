import fc from 'fast-check';

const CHUNK = 25_000;

/**
 * `fc.assert` in chunks, yielding to the event loop between them: one synchronous run of 400k
 * inputs blocks the vitest worker for minutes, and its RPC to the main process then times out
 * ("Timeout calling onTaskUpdate"), failing a run whose properties all held. Chunk k runs with
 * `seed + k`, so a long run replays from its seed.
 */
export async function assertInChunks<Ts>(property: fc.IProperty<Ts>, runs: number, seed: number | undefined): Promise<void> {
  for (let done = 0, k = 0; done < runs; done += CHUNK, k++) {
    fc.assert(property, { numRuns: Math.min(CHUNK, runs - done), ...(seed === undefined ? {} : { seed: seed + k }) });
    await new Promise((resolve) => setImmediate(resolve));
  }
}
