/**
 * A verifier worker thread: holds a trust source (remembered or online) and verifies with it, so
 * that verifying a large repository (100k targets: a second or more of parsing and hashing)
 * never blocks the thread that answers `/healthz` and reviews. It sends the server thread each
 * verified repository once (by epoch), with how long it may be reused. Started by
 * `createVerifierPool`.
 *
 * @module
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { VerifiedRepository } from '../verify/types.js';
import { onlineTrustSource } from './online-trust.js';
import { rememberedTrustSource } from './remembered-trust.js';
import { repositoryToWire } from './repository-wire.js';
import { toWire, type FromWorker, type ToWorker, type WorkerConfig, type WorkerFacts } from './worker-protocol.js';

const config = workerData as WorkerConfig;
const port = parentPort;
if (port === null) throw new Error('src/admission/worker.ts runs only as a worker thread');

const { kind, ...trustOptions } = config.trust;
const trust = kind === 'online' ? onlineTrustSource(trustOptions as Parameters<typeof onlineTrustSource>[0]) : rememberedTrustSource(trustOptions);

/** One name per repository object this worker returned: the server thread's copy is keyed by it. */
const epochs = new WeakMap<VerifiedRepository, string>();
let serial = 0;
function epochOf(repo: VerifiedRepository): string {
  let e = epochs.get(repo);
  if (e === undefined) {
    e = `${threadId}:${++serial}`;
    epochs.set(repo, e);
  }
  return e;
}

function facts(now: Date): WorkerFacts {
  const verifiedAt = trust.guns().flatMap((gun): Array<[string, number]> => {
    const age = trust.ageMs(gun, now);
    return age === undefined ? [] : [[gun, now.getTime() - age]];
  });
  const stats = trust.stats as { fetchErrors?: number };
  return { verifiedAt, fetchErrors: stats.fetchErrors ?? 0 };
}

const reply = (m: FromWorker) => port.postMessage(m);

function verify(m: Extract<ToWorker, { type: 'verify' }>): void {
  Promise.resolve()
    .then(() => (kind === 'online' ? trust.verify(m.query) : (trust as ReturnType<typeof rememberedTrustSource>).verify(m.query, { look: m.look === true })))
    .then(
      (repo) => {
        const epoch = epochOf(repo);
        const reuse = trust.reuse(m.query);
        reply({ type: 'verified', id: m.id, epoch, ...(epoch === m.known ? {} : { repo: repositoryToWire(repo) }), ...(reuse ? { reuse } : {}) });
      },
      (e: unknown) => reply({ type: 'failed', id: m.id, error: toWire(e) }),
    );
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'facts') reply({ type: 'facts', id: m.id, facts: facts(m.now) });
  else verify(m);
});
reply({ type: 'ready', id: 0 });
