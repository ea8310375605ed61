#!/usr/bin/env node
// Runs the built `trustgate` over the bundled trust directories made by the real Notary 0.7.0
// and prints what it says. Each set is judged at the time it was generated (its timestamps last
// 14 days), then once more at today's date to show what expiry looks like, and once on a copy
// with one byte changed. Everything printed comes from the CLI's human output, which escapes
// target names for the terminal (src/cli/format.ts, escapeTerminal).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const base = fileURLToPath(new URL('../vectors/notary-0.7.0/', import.meta.url));
const trustgate = (...args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, DOCKER_CONFIG: join(base, 'no-such-docker-config') } });
const indent = (text) => text.replace(/^(?=.)/gm, '    ');

const scenarios = readdirSync(base).filter((d) => existsSync(join(base, d, 'expected.json'))).sort();
let failures = 0;
for (const name of scenarios) {
  const expected = JSON.parse(readFileSync(join(base, name, 'expected.json'), 'utf8'));
  const r = trustgate('inspect', '--pretty', '--trust-dir', join(base, name, 'trust'), '--now', expected.generated_at, expected.gun);
  if (r.status !== 0) failures++;
  console.log(`${r.status === 0 ? '✔' : '✘'} ${expected.gun}  (${name}, at ${expected.generated_at})`);
  process.stdout.write(indent(r.status === 0 ? r.stdout.replace(/^\n/, '') : r.stderr));
}

const basic = JSON.parse(readFileSync(join(base, 'basic', 'expected.json'), 'utf8'));
const today = trustgate('verify', '--trust-dir', join(base, 'basic', 'trust'), `${basic.gun}:v1`);
console.log(`\nToday (${new Date().toISOString()}) the same cache says:`);
process.stdout.write(indent(today.stdout));

const tampered = trustgate('verify', '--trust-dir', join(base, 'tamper', 'targets-signed-hash', 'trust'), '--now', basic.generated_at, `${basic.gun}:v1`);
if (tampered.status === 0) failures++;
console.log('A cache with one byte changed in targets.json:');
process.stdout.write(indent(tampered.stdout));
process.exitCode = failures === 0 ? 0 : 1;
