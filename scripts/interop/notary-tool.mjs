#!/usr/bin/env node
/**
 * Helper of scripts/interop/mint.sh (not a public tool). Subcommands:
 *
 *   free-port                         print a free TCP port on 127.0.0.1 (bind port 0, close)
 *   wait-tcp PORT SECONDS             wait until 127.0.0.1:PORT accepts a connection
 *   wait-http URL SECONDS             wait until URL answers 200
 *   mutate FILE KIND                  change FILE in place; KIND = signed-byte | sig-char
 *   oracle  --out F --name N --gun G --trust DIR --config C --online URL --offline URL [--tag T]...
 *   tamper  --out F --case C --source N --gun G --trust DIR --scratch DIR --config C --offline URL
 *           --role R --change TEXT --generated-at ISO
 *
 * `oracle` refreshes the cache once online (`notary list`), then asks the questions offline (the
 * server URL is a closed port), so the answers come from exactly the bytes a verifier will read.
 * Every notary call is recorded with argv, exit code, stdout and stderr.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { get } from 'node:http';
import { join, relative } from 'node:path';

const NO_SUCH_TAG = 'no-such-tag';

function die(msg) {
  process.stderr.write(`notary-tool: ${msg}\n`);
  process.exit(2);
}

function parseFlags(argv) {
  const flags = { tag: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (!k?.startsWith('--') || v === undefined) die(`bad arguments near ${String(k)}`);
    const key = k.slice(2);
    if (key === 'tag') flags.tag.push(v);
    else flags[key] = v;
  }
  return flags;
}

function need(flags, ...keys) {
  for (const k of keys) if (typeof flags[k] !== 'string' || flags[k] === '') die(`--${k} is required`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  const srv = createServer();
  await new Promise((res, rej) => {
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', res);
  });
  const { port } = srv.address();
  await new Promise((res) => srv.close(res));
  process.stdout.write(`${port}\n`);
}

async function waitFor(probe, seconds, what) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) die(`timed out after ${seconds}s waiting for ${what}`);
    await sleep(100);
  }
}

const tcpOpen = (port) =>
  new Promise((res) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });

const httpOk = (url) =>
  new Promise((res) => {
    const req = get(url, { timeout: 2000 }, (r) => {
      r.resume();
      res(r.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => res(false));
  });

/** Keeps the file valid JSON: a digit of the first `expires` (inside `signed`) or a char of the first `sig`. */
function mutate(file, kind) {
  const text = readFileSync(file, 'latin1');
  const signedEnd = text.indexOf('"signatures"');
  let at;
  let replacement;
  if (kind === 'signed-byte') {
    const i = text.indexOf('"expires":"');
    if (i < 0 || (signedEnd >= 0 && i > signedEnd)) die(`${file}: no expires inside signed`);
    at = i + '"expires":"'.length + 3; // last digit of the year
    const d = text.charCodeAt(at) - 48;
    if (d < 0 || d > 9) die(`${file}: unexpected expires`);
    replacement = String(d < 9 ? d + 1 : d - 1); // stays a valid, future date: only the hash breaks
  } else if (kind === 'sig-char') {
    const i = text.indexOf('"sig":"', signedEnd);
    if (signedEnd < 0 || i < 0) die(`${file}: no signature`);
    at = i + '"sig":"'.length + 10;
    const c = text[at];
    if (c === undefined || !/[A-Za-z0-9+/]/.test(c)) die(`${file}: unexpected sig`);
    replacement = c === 'A' ? 'B' : 'A';
  } else {
    die(`unknown mutation ${kind}`);
  }
  const before = text[at];
  writeFileSync(file, text.slice(0, at) + replacement + text.slice(at + 1), 'latin1');
  process.stdout.write(`${kind} at byte ${at}: ${before} -> ${replacement}\n`);
}

function notary(config, trust, server, args) {
  const argv = ['notary', '-c', config, '-d', trust, '-s', server, ...args];
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  if (r.error) die(`cannot run notary: ${r.error.message}`);
  return { argv, exit: r.status ?? -1, signal: r.signal ?? null, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Rows of `notary list`: NAME DIGEST SIZE ROLE after the dashed header line, padded with ASCII
 * spaces. A name may hold spaces and U+2028 (a JS line terminator), so lines are split on \n only
 * and `[^]` stands for any character.
 */
function parseList(stdout) {
  const lines = stdout.split('\n');
  const dash = lines.findIndex((l) => /^-+\s+-+\s+-+\s+-+\s*$/.test(l));
  if (dash < 0) return { rows: [], unparsed: lines.filter((l) => l.trim() !== '' && !/No targets present/.test(l)) };
  const rows = [];
  const unparsed = [];
  for (const l of lines.slice(dash + 1)) {
    if (l.trim() === '') continue;
    const m = /^([^]*?) +([0-9a-f]{64}) +(\d+) +([^ ]+) *$/.exec(l);
    if (m) rows.push({ name: m[1], sha256: m[2], length: Number(m[3]), role: m[4] });
    else unparsed.push(l);
  }
  return { rows, unparsed };
}

function parseLookup(stdout, tag) {
  for (const line of stdout.split('\n')) {
    const m = /^([^]*) sha256:([0-9a-f]{64}) (\d+)$/.exec(line);
    if (m && m[1] === tag) return { name: m[1], sha256: m[2], length: Number(m[3]) };
  }
  return null;
}

function metadataFiles(trust, gun) {
  const dir = join(trust, 'tuf', ...gun.split('/'), 'metadata');
  const out = {};
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const bytes = readFileSync(p);
        out[relative(dir, p)] = { length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
      }
    }
  };
  try {
    if (statSync(dir).isDirectory()) walk(dir);
  } catch {
    /* no metadata dir */
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function oracle(flags) {
  need(flags, 'out', 'name', 'gun', 'trust', 'config', 'online', 'offline');
  const { gun, trust, config } = flags;
  // One online list brings root, timestamp, snapshot, targets and delegations in the cache up to date.
  const refresh = notary(config, trust, flags.online, ['list', gun]);
  if (refresh.exit !== 0) die(`online refresh of ${gun} failed:\n${refresh.stdout}${refresh.stderr}`);
  const generatedAt = new Date().toISOString();
  const files = metadataFiles(trust, gun);
  const off = (args) => notary(config, trust, flags.offline, args);
  const list = off(['list', gun]);
  const listRoles = off(['list', gun, '--roles', 'targets/releases', '--roles', 'targets']);
  const tags = [...new Set([...parseList(list.stdout).rows.map((r) => r.name), ...parseList(listRoles.stdout).rows.map((r) => r.name), ...flags.tag, NO_SUCH_TAG])];
  const lookups = tags.map((tag) => {
    const call = off(['lookup', gun, tag]);
    return { tag, ...call, result: call.exit === 0 ? parseLookup(call.stdout, tag) : null };
  });
  const after = metadataFiles(trust, gun);
  const entry = (call) => ({ ...call, ...parseList(call.stdout) });
  const doc = {
    name: flags.name,
    gun,
    generated_at: generatedAt,
    trust_dir: trust,
    offline_server: flags.offline,
    metadata_files: files,
    cache_unchanged_by_offline_queries: JSON.stringify(files) === JSON.stringify(after),
    refresh_online: entry(refresh),
    list: entry(list),
    list_roles: { roles: ['targets/releases', 'targets'], ...entry(listRoles) },
    lookups,
  };
  writeFileSync(flags.out, `${JSON.stringify(doc, null, 2)}\n`);
}

function tamper(flags) {
  need(flags, 'out', 'case', 'source', 'gun', 'trust', 'scratch', 'config', 'offline', 'role', 'change', 'generated-at');
  const { gun, trust, scratch, config } = flags;
  // notary runs on a scratch copy, so the tampered copy a verifier reads is exactly what was made.
  rmSync(scratch, { recursive: true, force: true });
  cpSync(trust, scratch, { recursive: true });
  const call = notary(config, scratch, flags.offline, ['list', gun]);
  const debug = notary(config, scratch, flags.offline, ['-D', 'list', gun]);
  const reasons = debug.stderr
    .split('\n')
    .filter((l) => /invalid|did not match|checksum|verification|threshold|not found|no such|offline|expired|fatal|could not|failed/i.test(l))
    .slice(0, 40);
  const doc = {
    case: flags.case,
    source: flags.source,
    gun,
    generated_at: flags['generated-at'],
    trust_dir: trust,
    tampered_role: flags.role,
    change: flags.change,
    metadata_files: metadataFiles(trust, gun),
    notary_offline: { ...call, debug_reasons: reasons },
  };
  rmSync(scratch, { recursive: true, force: true });
  writeFileSync(flags.out, `${JSON.stringify(doc, null, 2)}\n`);
}

const [cmd, ...rest] = process.argv.slice(2);
switch (cmd) {
  case 'free-port':
    await freePort();
    break;
  case 'wait-tcp': {
    const port = Number(rest[0]);
    await waitFor(() => tcpOpen(port), Number(rest[1] ?? 20), `127.0.0.1:${port}`);
    break;
  }
  case 'wait-http':
    await waitFor(() => httpOk(rest[0]), Number(rest[1] ?? 20), rest[0]);
    break;
  case 'mutate':
    mutate(rest[0], rest[1]);
    break;
  case 'oracle':
    oracle(parseFlags(rest));
    break;
  case 'tamper':
    tamper(parseFlags(rest));
    break;
  default:
    die(`unknown subcommand ${String(cmd)}`);
}
