// Admission webhook benchmark (issue 16 item 8). `npm run bench:admission` builds, then:
//   1. throughput: `trustgate admission serve` as a child process (default --workers), 10
//      repositories of 10k targets each (bench/repo.mjs's generator, one root certificate per GUN),
//      warm caches, keep-alive HTTPS clients at concurrency 50 posting real AdmissionReviews
//      (one pod, one container; bodies built once) to /validate for DURATION seconds: reviews/s,
//      p50, p99, and the CPU the server and this client used (they share the cores);
//   2. a cold fetch: --online against a notary server that never answers, --deadline 1 s: every
//      review must be a deny by the deadline (p50, p99, max);
//   3. /healthz while a 100k-target repository verifies: the slowest /healthz on a keep-alive
//      connection during one cold review, with --workers 1 and with --workers 0 (server thread).
// It writes the figures into bench/RESULTS.md between the admission markers (other runs keep the
// rest of the file). Options: --seconds N (default 10), --concurrency N (default 50), --workers N
// (for the throughput run; default: the server's default), --no-write, --keep (keep the temp dir
// with the servers' logs), --warm-only (the throughput run alone, nothing written). BENCH_SERVER_NODE_ARGS
// passes Node flags to the server only (e.g. '--cpu-prof --cpu-prof-dir=/tmp/p', '--trace-gc').
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { Agent, request } from 'node:https';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseModel, build, ecKey, K, keyId, NOW, x509Key } from '../scripts/lib/notary-writer.mjs';
import { distribution, SEED, targetsFor } from './repo.mjs';
import { flag, opt } from './args.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
// BENCH_CLI: another build's dist/cli.js, e.g. an older commit's, for an A/B under the same load.
const CLI = process.env.BENCH_CLI ?? join(ROOT, 'dist', 'cli.js');
const SECONDS = opt('seconds', 10);
const CONCURRENCY = opt('concurrency', 50);
/** Node flags for the server only, e.g. BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' or '--trace-gc'. */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const DEADLINE_MS = 1000;
// The review that starts a fetch must be answered within the deadline: the server gives the fetch
// the deadline less a reserve for the answer (fetchBudgetMs in src/admission/online-trust.ts).
const log = (...m) => process.stdout.write(`${m.join(' ')}\n`);
const tmp = mkdtempSync(join(os.tmpdir(), 'trustgate-admission-bench-'));

/** A repository of `n` targets for `gun`: the bench model with a root certificate naming that GUN. */
function repoFor(gun, n) {
  const model = baseModel();
  const rootKey = x509Key(ecKey('root'), { cn: gun });
  delete model.root.signed.keys[keyId(K.root)];
  model.root.signed.keys[keyId(rootKey)] = rootKey.json;
  model.root.signed.roles.root = { keyids: [keyId(rootKey)], threshold: 1 };
  model.root.signers = [rootKey];
  for (const [role, count] of Object.entries(distribution(n))) model[role].signed.targets = targetsFor(role, count);
  return build({}, model);
}

function writeRepo(trustDir, gun, files) {
  for (const [role, buf] of Object.entries(files)) {
    const file = join(trustDir, 'tuf', ...gun.split('/'), 'metadata', `${role}.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, buf);
  }
}

/** The name bench/repo.mjs gives target `i` of the top-level role. */
const tagOf = (i) => `v${i}-${createHash('sha256').update(`${SEED}\u0000targets\u0000${i}`).digest('hex').slice(0, 8)}`;

function selfSigned() {
  const dir = join(tmp, 'tls');
  mkdirSync(dir, { recursive: true });
  const r = spawn('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  return new Promise((resolve, reject) => r.once('exit', (c) => (c === 0 ? resolve({ dir, cert: readFileSync(join(dir, 'cert.pem'), 'utf8') }) : reject(new Error(`openssl exited ${c}`)))));
}

let serves = 0;
/** Starts `admission serve` and resolves with its port, its pid and a stop function. */
async function serve(tls, trustDir, policyFile, extra) {
  const args = [CLI, 'admission', 'serve', '--policy', policyFile, '--tls-cert', join(tls.dir, 'cert.pem'), '--tls-key', join(tls.dir, 'key.pem'), '--port', '0', '--host', '127.0.0.1', '--trust-dir', trustDir, '--state-dir', join(tmp, 'state'), ...extra];
  // The decision log goes to a file, not a pipe into this process: reading one line per review
  // here would put the log's reader on the cores the server is measured on.
  const logFile = join(tmp, `serve-${serves++}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...SERVER_NODE_ARGS, ...args], { stdio: ['ignore', fd, 'inherit'] });
  closeSync(fd);
  let exited = false;
  child.once('exit', () => (exited = true));
  const port = await new Promise((resolve, reject) => {
    const look = () => {
      const m = /"port":(\d+)/.exec(readFileSync(logFile, 'utf8'));
      if (m) resolve(Number(m[1]));
      else if (exited) reject(new Error(`admission serve exited: ${readFileSync(logFile, 'utf8')}`));
      else setTimeout(look, 50);
    };
    look();
  });
  const stop = () => new Promise((r) => (exited ? r() : (child.once('exit', r), child.kill('SIGTERM'))));
  return { port, pid: child.pid, stop };
}

/** CPU seconds (user + system, every thread) the process `pid` has used, from /proc. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

function review(image, uid) {
  return Buffer.from(JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'bench',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:bench:deployer', groups: ['system:authenticated'] },
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${uid}`, namespace: 'bench' }, spec: { containers: [{ name: 'app', image }] } },
    },
  }));
}

/** One POST of a pre-built body; resolves with the answer's text (not parsed: the client stays light). */
function post(port, agent, body, path = '/validate') {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = chunks.length === 1 ? chunks[0].toString('latin1') : Buffer.concat(chunks).toString('latin1');
        if (res.statusCode === 200) resolve(text);
        else reject(new Error(`HTTP ${res.statusCode}: ${text}`));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const isAllowed = (text) => text.includes('"allowed":true');

function healthz(port, agent) {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    })
      .on('error', reject)
      .end();
  });
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Concurrency-N closed loop for `seconds` over pre-built bodies; every answer must match
 * `expect`. Also the CPU the server and this client used meanwhile: the two share the cores.
 */
async function closedLoop(server, cert, bodies, seconds, expect = isAllowed) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: cert });
  // The API server keeps its connections: open all of them (TLS handshakes) before timing.
  await Promise.all(Array.from({ length: CONCURRENCY }, () => healthz(server.port, agent)));
  let n = 0;
  const lat = [];
  const deadline = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const body = bodies[n++ % bodies.length];
      const t = performance.now();
      const text = await post(server.port, agent, body);
      lat.push(performance.now() - t);
      if (!expect(text)) throw new Error(`unexpected answer: ${text.slice(0, 300)}`);
    }
  };
  const cpu0 = process.cpuUsage();
  const server0 = cpuSeconds(server.pid);
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const wall = (performance.now() - started) / 1000;
  const c = process.cpuUsage(cpu0);
  const serverCpu = cpuSeconds(server.pid) - server0;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return {
    reviews: lat.length,
    perSecond: round(lat.length / wall, 0),
    p50: round(pct(lat, 50)),
    p99: round(pct(lat, 99)),
    max: round(lat.at(-1)),
    // Cores busy: CPU seconds per wall second.
    serverCores: round(serverCpu / wall),
    clientCores: round((c.user + c.system) / 1e6 / wall),
    serverUsPerReview: round((serverCpu * 1e6) / lat.length, 0),
    clientUsPerReview: round((c.user + c.system) / lat.length, 0),
  };
}

/** One cold review of `image` while /healthz is polled on one keep-alive connection. */
async function healthzDuring(port, cert, image) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: cert });
  const once = () =>
    new Promise((resolve, reject) => {
      const t = performance.now();
      request({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(performance.now() - t));
      }).on('error', reject).end();
    });
  await once();
  const samples = [];
  let done = false;
  const t = performance.now();
  const answer = post(port, new Agent({ keepAlive: false, ca: cert }), review(image, 'big')).finally(() => (done = true));
  while (!done) samples.push(await once());
  const reviewMs = performance.now() - t;
  if (!isAllowed(await answer)) throw new Error('the 100k review was denied');
  agent.destroy();
  samples.sort((a, b) => a - b);
  return { reviewMs: round(reviewMs, 0), healthzSamples: samples.length, healthzP50: round(pct(samples, 50)), healthzMax: round(samples.at(-1) ?? 0) };
}

async function main() {
  const tls = await selfSigned();
  const trustDir = join(tmp, 'trust');
  const guns = Array.from({ length: 10 }, (_, i) => `example.com/trustgate/bench${i}`);
  let t = performance.now();
  for (const g of guns) writeRepo(trustDir, g, repoFor(g, 10_000));
  log(`generated 10 repositories of 10k targets in ${round((performance.now() - t) / 1000, 1)} s`);
  const policyFile = join(tmp, 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ rules: [{ images: 'example.com/trustgate/**' }], default: { action: 'deny' } }));
  const images = guns.flatMap((g) => [0, 1, 2].map((i) => `${g}:${tagOf(i)}`));

  const server = await serve(tls, trustDir, policyFile, ['--now', NOW, ...(flag('workers') ? ['--workers', String(opt('workers', 1))] : [])]);
  const warmAgent = new Agent({ keepAlive: true, ca: tls.cert });
  const bodies = images.map((image, i) => review(image, `b-${i}`));
  for (const body of bodies) await post(server.port, warmAgent, body);
  warmAgent.destroy();
  const warm = await closedLoop(server, tls.cert, bodies, SECONDS);
  await server.stop();
  log(`throughput (warm, c=${CONCURRENCY}, ${SECONDS} s): ${warm.perSecond} reviews/s, p50 ${warm.p50} ms, p99 ${warm.p99} ms, max ${warm.max} ms; cores busy: server ${warm.serverCores}, client ${warm.clientCores} (${warm.serverUsPerReview} / ${warm.clientUsPerReview} µs CPU per review)`);

  if (flag('warm-only')) return rmSync(tmp, { recursive: true, force: true });
  const cold = await coldFetch(tls, policyFile, images);
  log(`cold fetch from a notary server that never answers (--deadline ${DEADLINE_MS} ms, c=${CONCURRENCY}): p50 ${cold.p50} ms, p99 ${cold.p99} ms, max ${cold.max} ms over ${cold.reviews} reviews, every one denied ERR_FETCH_TIMEOUT`);

  const big = 'example.com/trustgate/big';
  t = performance.now();
  writeRepo(trustDir, big, repoFor(big, 100_000));
  log(`generated the 100k-target repository in ${round((performance.now() - t) / 1000, 1)} s`);
  const stall = {};
  for (const workers of ['1', '0']) {
    const s = await serve(tls, trustDir, policyFile, ['--now', NOW, '--workers', workers]);
    stall[workers] = await healthzDuring(s.port, tls.cert, `${big}:${tagOf(0)}`);
    await s.stop();
    log(`--workers ${workers}: cold 100k review ${stall[workers].reviewMs} ms; /healthz p50 ${stall[workers].healthzP50} ms, slowest ${stall[workers].healthzMax} ms (${stall[workers].healthzSamples} polls)`);
  }
  if (flag('keep')) log(`kept ${tmp} (the servers' logs are serve-N.log)`);
  else rmSync(tmp, { recursive: true, force: true });
  if (!flag('no-write')) writeResults(warm, cold, stall);
}

/**
 * Online trust with a cold cache against a notary server that accepts connections and never
 * answers (the worst cold fetch): every review must be a deny at the fetch deadline, never a
 * webhook timeout. A failed fetch is not remembered, so each GUN is fetched again and again.
 */
async function coldFetch(tls, policyFile, images) {
  const hung = [];
  const notary = createHttpServer((req, res) => void hung.push(res));
  await new Promise((r) => notary.listen(0, '127.0.0.1', r));
  const online = join(tmp, 'online.json');
  writeFileSync(online, readFileSync(policyFile, 'utf8').replace(/^\{/, '{"online":true,'));
  const url = `http://127.0.0.1:${notary.address().port}`;
  const server = await serve(tls, join(tmp, 'online-trust'), online, ['--server', url, '--deadline', `${DEADLINE_MS}ms`, '--timeout-ms', String(DEADLINE_MS * 3)]);
  const bodies = images.map((image, i) => review(image, `c-${i}`));
  const r = await closedLoop(server, tls.cert, bodies, Math.min(SECONDS, 4), (t) => t.includes('"allowed":false') && t.includes('ERR_FETCH_TIMEOUT'));
  await server.stop();
  for (const res of hung) res.destroy();
  notary.closeAllConnections();
  await new Promise((res) => notary.close(res));
  return r;
}

function writeResults(warm, cold, stall) {
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' / ');
  const goal = (ok) => (ok ? '**met**' : '**not met**');
  const section = `<!-- admission:begin (written by npm run bench:admission, bench/admission.mjs) -->
## Admission webhook (\`npm run bench:admission\`)

Run on ${new Date().toISOString()}: ${os.cpus().length} logical cores, Node ${process.version}, load average ${load} at the end (other work shares this machine: absolute figures are inflated).

Method: \`trustgate admission serve\` as a child process (default \`--workers\`), 10 repositories of 10k targets (bench/repo.mjs, one root certificate per GUN), every repository verified once before timing (warm caches); ${CONCURRENCY} keep-alive HTTPS clients in this process (connections opened before timing, bodies built once, answers checked without parsing) post AdmissionReviews (one pod, one container, 30 distinct images) to \`/validate\` in a closed loop for ${SECONDS} s. Cold fetch: \`--online\` with an empty cache against a notary server on 127.0.0.1 that accepts connections and never answers, \`--deadline ${DEADLINE_MS}ms\`, the same ${CONCURRENCY} clients for up to 4 s. Then one cold review of a 100k-target repository while \`/healthz\` is polled back to back on one keep-alive connection.

| Goal | Value | Status |
|---|---|---|
| ≥ 2,000 reviews/s (warm, c=${CONCURRENCY}) | ${warm.perSecond} | ${goal(warm.perSecond >= 2000)} |
| p99 ≤ 20 ms | ${warm.p99} ms (p50 ${warm.p50} ms, max ${warm.max} ms, ${warm.reviews} reviews) | ${goal(warm.p99 <= 20)} |
| p99 under a cold fetch ≤ the deadline (${DEADLINE_MS} ms; the fetch gets ${DEADLINE_MS - Math.min(100, Math.floor(DEADLINE_MS / 10))} ms of it) | ${cold.p99} ms (p50 ${cold.p50} ms, max ${cold.max} ms, ${cold.reviews} reviews, all denied \`ERR_FETCH_TIMEOUT\`; \`--timeout-ms\` ${DEADLINE_MS * 3}) | ${goal(cold.p99 <= DEADLINE_MS)} |

CPU during the warm run (the client shares the cores): server ${warm.serverCores} cores busy (${warm.serverUsPerReview} µs CPU per review, every thread), client ${warm.clientCores} cores (${warm.clientUsPerReview} µs per review).

| 100k-target review | cold review | /healthz p50 | slowest /healthz | polls |
|---|---:|---:|---:|---:|
| \`--workers 1\` (worker thread) | ${stall['1'].reviewMs} ms | ${stall['1'].healthzP50} ms | ${stall['1'].healthzMax} ms | ${stall['1'].healthzSamples} |
| \`--workers 0\` (server thread) | ${stall['0'].reviewMs} ms | ${stall['0'].healthzP50} ms | ${stall['0'].healthzMax} ms | ${stall['0'].healthzSamples} |
<!-- admission:end -->`;
  const file = join(HERE, 'RESULTS.md');
  const text = readFileSync(file, 'utf8');
  const re = /<!-- admission:begin[\s\S]*?<!-- admission:end -->/;
  writeFileSync(file, re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}\n`);
}

await main();
