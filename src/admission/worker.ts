/**
 * A verifier worker thread: decides images with its own policy copy and trust source, so that
 * verifying a large repository (100k targets: tens of milliseconds of parsing and hashing) never
 * blocks the thread that answers `/healthz` and other reviews. Started by `createVerifierPool`.
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { checkAdmission, type AdmissionSources } from './decision.js';
import { onlineTrustSource } from './online-trust.js';
import { parsePolicy, type AdmissionPolicy } from './policy.js';
import { httpQuarantineReader } from './quarantine-http.js';
import { rememberedTrustSource } from './remembered-trust.js';

import { decisionToWire, toWire, type FromWorker, type ToWorker, type WorkerConfig, type WorkerFacts } from './worker-protocol.js';

const config = workerData as WorkerConfig;
const port = parentPort;
if (port === null) throw new Error('src/admission/worker.ts runs only as a worker thread');

const { kind, ...trustOptions } = config.trust;
const trust = kind === 'online' ? onlineTrustSource(trustOptions as Parameters<typeof onlineTrustSource>[0]) : rememberedTrustSource(trustOptions);
const sources: AdmissionSources = config.quarantine ? { trust, quarantine: httpQuarantineReader(config.quarantine) } : { trust };
let policy: AdmissionPolicy = parsePolicy(config.policy);

function facts(now: Date): WorkerFacts {
  const verifiedAt = trust.guns().flatMap((gun): Array<[string, number]> => {
    const age = trust.ageMs(gun, now);
    return age === undefined ? [] : [[gun, now.getTime() - age]];
  });
  const stats = trust.stats as { fetchErrors?: number };
  return { verifiedAt, fetchErrors: stats.fetchErrors ?? 0 };
}

const reply = (m: FromWorker) => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  if (m.type === 'policy') {
    policy = parsePolicy(m.policy);
  } else if (m.type === 'facts') {
    reply({ type: 'facts', id: m.id, facts: facts(m.now) });
  } else {
    checkAdmission(m.request, policy, sources).then(
      (d) => reply({ type: 'decision', id: m.id, decision: decisionToWire(d) }),
      (e: unknown) => reply({ type: 'failed', id: m.id, error: toWire(e) }),
    );
  }
});
