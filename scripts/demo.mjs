#!/usr/bin/env node
// Verifies bundled trust directories made by the real Notary 0.7.0 and prints the verdicts.
// Each set is judged at the time it was generated (its timestamps last 14 days), then once
// more at today's date to show what expiry looks like.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { verifyTrustDir, listTargets, isTrustError } from '../dist/index.js';

const printable = (s) => (/^[\x21-\x7e]+$/.test(s) ? s : JSON.stringify(s));

const base = new URL('../vectors/notary-0.7.0/', import.meta.url).pathname;
const scenarios = readdirSync(base).filter((d) => existsSync(join(base, d, 'expected.json'))).sort();
let failures = 0;
for (const name of scenarios) {
  const expected = JSON.parse(readFileSync(join(base, name, 'expected.json'), 'utf8'));
  const now = new Date(expected.generated_at);
  try {
    const repo = verifyTrustDir({ gun: expected.gun, trustDir: join(base, name, 'trust'), now });
    console.log(`✔ ${expected.gun}  (${name}, at ${now.toISOString()})`);
    for (const t of listTargets(repo)) {
      console.log(`    ${printable(t.name).padEnd(12)} ${t.digest}  ${t.role}  signed by ${t.signers.map((s) => s.slice(0, 12)).join(', ')}`);
    }
  } catch (e) {
    failures++;
    console.log(`✘ ${expected.gun}: ${isTrustError(e) ? `${e.code} ${e.message}` : e}`);
  }
}
const basic = JSON.parse(readFileSync(join(base, 'basic', 'expected.json'), 'utf8'));
try {
  verifyTrustDir({ gun: basic.gun, trustDir: join(base, 'basic', 'trust'), now: new Date() });
  console.log(`\nToday ${basic.gun} still verifies.`);
} catch (e) {
  console.log(`\nToday (${new Date().toISOString()}) the same cache is refused: ${e.code} — ${e.message}`);
}
const tampered = join(base, 'tamper', 'targets-signed-hash', 'trust');
try {
  verifyTrustDir({ gun: basic.gun, trustDir: tampered, now: new Date(basic.generated_at) });
  failures++;
  console.log('✘ a tampered cache verified');
} catch (e) {
  console.log(`A cache with one byte changed in targets.json is refused: ${e.code} — ${e.message}`);
}
process.exitCode = failures === 0 ? 0 : 1;
