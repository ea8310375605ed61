// Child process of bench/run.mjs, one per measurement, so that sizes do not share a heap.
//
//   node --expose-gc bench/child.mjs mem <trustDir> <warmTrustDir> <warmRuns>
//     Peak memory of one verification: warms the code by verifying another repository
//     `warmRuns` times, reads the files, collects garbage, then verifies once while a worker
//     thread samples the process RSS every
//     millisecond; also reads the kernel's RSS high-water mark (getrusage maxrss) before and
//     after. V8's --trace-gc is switched on for the call only: the parent reads the heap size
//     before each collection from those lines (the heap's high points). Prints one JSON line.
//
//   node --cpu-prof --cpu-prof-dir=D bench/child.mjs prof <trustDir> <runs>
//     Verifies the repository `runs` times (after one warm-up) for the CPU profile.
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { verifyRepository } from '../dist/index.js';
import { GUN, NOW, readTrustDir, totalBytes } from './files.mjs';

const [mode, dir, arg, arg2] = process.argv.slice(2);
const now = new Date(NOW);
const verify = (files) => verifyRepository({ gun: GUN, source: (role) => files[role], now });
const gc = globalThis.gc ?? (() => {});

const SAMPLER = `
const { workerData, parentPort } = require('node:worker_threads');
const view = new Float64Array(workerData);
parentPort.postMessage('ready');
const tick = () => {
  const rss = process.memoryUsage.rss();
  if (rss > view[0]) view[0] = rss;
  if (view[1] === 0) setTimeout(tick, 1);
};
tick();
`;

if (mode === 'mem') {
  const warm = readTrustDir(arg);
  for (let i = 0; i < Number(arg2 ?? 3); i++) verify(warm);
  const files = readTrustDir(dir);
  const shared = new SharedArrayBuffer(16);
  const peak = new Float64Array(shared);
  const worker = new Worker(SAMPLER, { eval: true, workerData: shared });
  await new Promise((resolve) => worker.once('message', resolve));
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc();
  gc();
  const before = process.memoryUsage();
  const maxBefore = process.resourceUsage().maxRSS * 1024;
  peak[0] = before.rss;
  // Let the sampler take at least one reading at the baseline before the synchronous call.
  await new Promise((resolve) => setTimeout(resolve, 5));
  v8.setFlagsFromString('--trace-gc');
  const t0 = performance.now();
  const result = verify(files);
  const ms = performance.now() - t0;
  v8.setFlagsFromString('--no-trace-gc');
  const end = process.memoryUsage();
  const maxAfter = process.resourceUsage().maxRSS * 1024;
  // The sampler cannot run while the main thread is busy only if it shares a core under load;
  // the kernel's high-water mark covers that case when it moved during the call.
  peak[1] = 1;
  await new Promise((resolve) => setTimeout(resolve, 5));
  await worker.terminate();
  const sampled = peak[0];
  const peakRss = Math.max(sampled, maxAfter > maxBefore ? maxAfter : 0);
  gc();
  gc();
  const after = process.memoryUsage();
  let targets = 0;
  for (const r of result.roles.values()) targets += r.targets.size;
  process.stdout.write(
    `${JSON.stringify({
      metadata_bytes: totalBytes(files),
      targets,
      cold_ms: ms,
      rss_before: before.rss,
      peak_rss: peakRss,
      peak_bytes: peakRss - before.rss,
      peak_source: maxAfter > maxBefore && maxAfter >= sampled ? 'getrusage maxrss' : 'sampled rss',
      heap_before: before.heapUsed + before.external,
      heap_end: end.heapUsed + end.external,
      external_delta: end.external - before.external,
      retained_bytes: after.heapUsed + after.external - (before.heapUsed + before.external),
    })}\n`,
  );
} else if (mode === 'prof') {
  const files = readTrustDir(dir);
  verify(files);
  const runs = Number(arg ?? 4);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    verify(files);
    times.push(performance.now() - t0);
  }
  process.stdout.write(`${JSON.stringify({ runs, times })}\n`);
} else {
  process.stderr.write('usage: child.mjs mem|prof <trustDir> <arg>\n');
  process.exit(2);
}
