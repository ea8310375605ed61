// Fetch benchmark (issue #13, item 9): a real notary-server on 127.0.0.1 (memory storage) holding a
// repository with N targets published by the real notary CLI; then, interleaved run by run,
//   * trustgate: `trustgate verify --online <gun>:t0` as a process (fetch + verify + commit into
//     an empty trust dir), and the in-process `fetchTrustData` (cold and warm cache);
//   * notary:    `notary -s URL -d <empty dir> list <gun>` (download + verify + cache + list).
// `npm run bench:fetch` prints a summary and writes bench/FETCH-RESULTS.md; `-- --json` prints JSON.
// Options: --targets N (default 10000; others do not write the results file), --reps N (default 7),
// --no-write.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchTrustData } from '../dist/fetch.js';
import { flag, JSON_OUT, opt } from './args.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = join(HERE, '..', 'dist', 'cli.js');
const N = opt('targets', 10_000);
const REPS = opt('reps', 7);
const GUN = 'registry.bench:5000/trustgate/fetch-bench';
const log = (...m) => (JSON_OUT ? process.stderr : process.stdout).write(`${m.join(' ')}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

const tmp = mkdtempSync(join(os.tmpdir(), 'trustgate-fetch-bench-'));
const env = {
  PATH: process.env.PATH ?? '',
  HOME: join(tmp, 'home'),
  NOTARY_ROOT_PASSPHRASE: 'bench-root',
  NOTARY_TARGETS_PASSPHRASE: 'bench-targets',
  NOTARY_SNAPSHOT_PASSPHRASE: 'bench-snapshot',
};
mkdirSync(env.HOME, { recursive: true });
const clientConfig = join(tmp, 'client.json');
writeFileSync(clientConfig, '{}');

// Port choice and the health wait are scripts/interop/notary-tool.mjs's, as mint.sh uses them.
const TOOL = join(HERE, '..', 'scripts', 'interop', 'notary-tool.mjs');
const tool = (...args) => {
  const r = spawnSync(process.execPath, [TOOL, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`notary-tool ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

let server;
async function startServer() {
  const port = Number(tool('free-port'));
  const cfg = join(tmp, 'server.json');
  writeFileSync(cfg, JSON.stringify({ server: { http_addr: `127.0.0.1:${port}` }, trust_service: { type: 'local' }, logging: { level: 'error' }, storage: { backend: 'memory' } }));
  server = spawn('notary-server', ['-config', cfg], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  tool('wait-http', `${url}/_notary_server/health`, '15');
  return url;
}

function notary(trustDir, url, args) {
  const t0 = performance.now();
  const r = spawnSync('notary', ['-c', clientConfig, '-d', trustDir, '-s', url, ...args], { env, encoding: 'utf8', maxBuffer: 256 << 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`notary ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return { ms, stdout: r.stdout };
}

try {
  const url = await startServer();
  log(`notary-server at ${url}; publishing ${N} targets with the notary CLI into ${tmp}`);
  const pubDir = join(tmp, 'publisher');
  const t0 = performance.now();
  notary(pubDir, url, ['init', GUN]);
  // One staged change per target, in the notary CLI's own changelist format (what `notary add`
  // writes), then a single `notary publish`: 10k `notary add` processes would take minutes.
  const changes = join(pubDir, 'tuf', ...GUN.split('/'), 'changelist');
  mkdirSync(changes, { recursive: true });
  const stamp = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < N; i++) {
    const content = `fetch-bench target ${i}\n`;
    const meta = { length: Buffer.byteLength(content), hashes: { sha256: createHash('sha256').update(content).digest('base64') } };
    const change = { action: 'create', role: 'targets', type: 'target', path: `t${i}`, data: Buffer.from(JSON.stringify(meta)).toString('base64') };
    writeFileSync(join(changes, `${String(stamp + BigInt(i)).padStart(20, '0')}_${randomUUID()}.change`), JSON.stringify(change));
  }
  notary(pubDir, url, ['publish', GUN]);
  const publishMs = performance.now() - t0;
  log(`published in ${round(publishMs / 1000, 1)} s`);

  const samples = { trustgateCli: [], notaryList: [], libCold: [], libWarm: [] };
  let bytes = 0;
  let rows = 0;
  for (let i = 0; i < REPS; i++) {
    // notary online list into an empty trust dir (download, verify, cache, print).
    const nd = join(tmp, `notary-${i}`);
    const n = notary(nd, url, ['list', GUN]);
    rows = n.stdout.split('\n').filter((l) => / t\d+ /.test(` ${l}`)).length;
    samples.notaryList.push(n.ms);
    // trustgate as a process: fetch + verify + commit into an empty trust dir, then resolve a tag.
    const td = join(tmp, `tg-${i}`);
    const c0 = performance.now();
    const r = spawnSync(process.execPath, [CLI, 'verify', '--online', `${GUN}:t0`, '--server', url, '--trust-dir', join(td, 'trust'), '--state-dir', join(td, 'state')], {
      env: { ...env, DOCKER_CONFIG: join(tmp, 'no-docker-config') },
      encoding: 'utf8',
    });
    samples.trustgateCli.push(performance.now() - c0);
    if (r.status !== 0) throw new Error(`trustgate verify --online: ${r.stdout}${r.stderr}`);
    // The library in-process, cold (empty cache) and warm (second fetch: only the timestamp).
    const ld = join(tmp, `lib-${i}`);
    const o = { gun: GUN, server: url, now: new Date(), trustDir: join(ld, 'trust'), stateDir: join(ld, 'state'), dockerConfigDir: false };
    const l0 = performance.now();
    const cold = await fetchTrustData(o);
    samples.libCold.push(performance.now() - l0);
    bytes = cold.bytesDownloaded;
    const w0 = performance.now();
    await fetchTrustData({ ...o, now: new Date() });
    samples.libWarm.push(performance.now() - w0);
    rmSync(nd, { recursive: true, force: true });
    rmSync(td, { recursive: true, force: true });
    rmSync(ld, { recursive: true, force: true });
  }
  if (rows !== N) throw new Error(`notary listed ${rows} targets, expected ${N}`);
  const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, round(median(v), 1)]));
  const result = {
    generated_at: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, load_at_end: os.loadavg().map((x) => round(x)) },
    targets: N,
    reps: REPS,
    bytes_downloaded_cold: bytes,
    publish_ms: round(publishMs, 0),
    median_ms: m,
    ratio_cli_vs_notary_list: round(m.trustgateCli / m.notaryList),
    ratio_library_cold_vs_notary_list: round(m.libCold / m.notaryList),
    samples_ms: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map((x) => round(x, 1))])),
  };
  if (JSON_OUT) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    log(`${N} targets, ${bytes} bytes downloaded on a cold fetch, median of ${REPS}:`);
    log(`  trustgate verify --online (process)  ${m.trustgateCli} ms`);
    log(`  notary list online (process)         ${m.notaryList} ms   ratio ${result.ratio_cli_vs_notary_list}`);
    log(`  fetchTrustData cold (in-process)     ${m.libCold} ms   ratio ${result.ratio_library_cold_vs_notary_list}`);
    log(`  fetchTrustData warm (timestamp only) ${m.libWarm} ms`);
  }
  // Only the documented configuration updates the committed results.
  if (N === 10_000 && !flag('no-write')) writeFileSync(
    join(HERE, 'FETCH-RESULTS.md'),
    `# trustgate fetch benchmark

Generated by \`npm run bench:fetch\` (bench/fetch.mjs) on ${result.generated_at}; ${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}, load average at the end ${result.machine.load_at_end.join(' / ')}.

A real notary-server (Debian notary 0.7.0, memory storage, local trust service) on 127.0.0.1 holds one repository with ${N} targets in \`targets\`, published by the real notary CLI (its changelist format, one \`notary publish\`). Cold runs start from an empty trust directory each time; runs are interleaved; median of ${REPS}.

| Run | Median (ms) |
|---|---|
| \`trustgate verify --online <gun>:t0\` as a process: fetch, verify, commit, resolve | ${m.trustgateCli} |
| \`notary -s URL list <gun>\` as a process, empty trust dir | ${m.notaryList} |
| \`fetchTrustData\` in-process, cold | ${m.libCold} |
| \`fetchTrustData\` in-process, warm (only timestamp.json is downloaded) | ${m.libWarm} |

Ratio trustgate process / notary list: **${result.ratio_cli_vs_notary_list}**; in-process cold fetch / notary list: ${result.ratio_library_cold_vs_notary_list}. Bytes downloaded on a cold fetch: ${bytes}.

Samples (ms): ${Object.entries(result.samples_ms).map(([k, v]) => `${k} ${v.join(', ')}`).join('; ')}.
`,
  );
} finally {
  server?.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
