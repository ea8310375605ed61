import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, run } from '../cli/helpers.js';
import { digestOf, HUB, selfSignedCert } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'trustgate-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function policyFile(name: string, policy: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(policy));
  return file;
}

const NOW = '2026-11-27T03:00:00Z';
const strict = policyFile('strict.json', {
  breakGlass: { annotation: 'trustgate.io/break-glass' },
  rules: [{ images: 'docker.io/acme/hub', signers: { roles: ['targets/releases', 'targets/bob'], threshold: 2 } }],
  default: { action: 'deny' },
});
const base = ['--policy', strict, '--trust-dir', HUB.trustDir, '--now', NOW];

describe('trustgate check', () => {
  it('exit 0 and the verified digest for an allowed image (--json)', () => {
    const r = run(['check', 'docker.io/acme/hub:v1', ...base, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ allowed: true, digest: digestOf(HUB, 'v1'), role: 'targets/releases' });
  });

  it('exit 1 with the code for a deny (human and --json)', () => {
    const human = run(['check', 'acme/hub:nope', ...base]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('DENY');
    expect(human.stdout).toContain('ERR_ADMISSION_UNSIGNED');
    const json = run(['check', 'acme/hub:latest', ...base, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ allowed: false, code: 'ERR_SIGNER_THRESHOLD_NOT_MET', error: { code: 'ERR_SIGNER_THRESHOLD_NOT_MET' } });
  });

  it('--break-glass allows with exit 0 and records the reason', () => {
    const r = run(['check', 'acme/hub:nope', ...base, '--break-glass', 'INC-7', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ allowed: true, breakGlass: { reason: 'INC-7' }, wouldDeny: { code: 'ERR_ADMISSION_UNSIGNED' } });
  });

  it('exit 2 for usage: no policy, bad policy, bad reference, quarantine rule, extra args', () => {
    expect(run(['check', 'acme/hub:v1']).code).toBe(2);
    const bad = policyFile('bad.json', { rules: [] });
    const r = run(['check', 'acme/hub:v1', '--policy', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('default');
    expect(run(['check', 'acme/Hub:v1', ...base]).code).toBe(2);
    const q = policyFile('q.json', { rules: [], default: { requireQuarantineVisible: true } });
    expect(run(['check', 'acme/hub:v1', '--policy', q, '--trust-dir', HUB.trustDir, '--now', NOW]).stderr).toContain('quarantine');
    expect(run(['check', 'a', 'b', ...base]).code).toBe(2);
    expect(run(['check', '--help']).code).toBe(0);
  });
});

describe('trustgate admission serve', () => {
  it('usage errors exit 2', () => {
    expect(run(['admission']).code).toBe(2);
    expect(run(['admission', 'serve', '--policy', strict]).code).toBe(2);
    expect(run(['admission', 'serve', '--help']).code).toBe(0);
  });

  it('serves /healthz and /validate over HTTPS and stops on SIGTERM', async () => {
    const tls = selfSignedCert();
    const child = spawn(
      process.execPath,
      [CLI, 'admission', 'serve', '--policy', strict, '--tls-cert', join(tls.dir, 'cert.pem'), '--tls-key', join(tls.dir, 'key.pem'), '--port', '0', '--host', '127.0.0.1', '--trust-dir', HUB.trustDir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /"port":(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const body = await new Promise<string>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/healthz', ca: tls.cert }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c.toString()));
          res.on('end', () => resolve(b));
        })
          .on('error', reject)
          .end();
      });
      expect(body).toBe('ok\n');
      const exit = new Promise<number | null>((r) => child.once('exit', r));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(tls.dir, { recursive: true, force: true });
    }
  });
});
