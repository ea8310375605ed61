import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../cli/helpers.js';
import { digestOf, fixture, HUB, selfSignedCert, startServe } from './helpers.js';

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
    const noPolicy = run(['check', 'acme/hub:v1']);
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.stderr).toContain('trustgate check: --policy FILE is required');
    expect(noPolicy.stdout).toBe('');
    const bad = policyFile('bad.json', { rules: [] });
    const r = run(['check', 'acme/hub:v1', '--policy', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('default');
    // A bad reference is a decision (ERR_INVALID_REFERENCE) on stdout, exit 2 and the usage hint on stderr.
    const badRef = run(['check', 'acme/Hub:v1', ...base]);
    expect(badRef.code).toBe(2);
    expect(badRef.stdout).toMatch(/DENY\s+acme\/Hub:v1\s+ERR_INVALID_REFERENCE: invalid reference "acme\/Hub:v1": repository name "acme\/Hub" must be lowercase/);
    expect(badRef.stderr).toContain('Run "trustgate check --help" for usage.');
    const badRefJson = run(['check', 'acme/Hub:v1', ...base, '--json']);
    expect(badRefJson.code).toBe(2);
    expect(JSON.parse(badRefJson.stdout)).toMatchObject({ allowed: false, code: 'ERR_INVALID_REFERENCE', error: { code: 'ERR_INVALID_REFERENCE' } });
    const q = policyFile('q.json', { rules: [], default: { requireQuarantineVisible: true } });
    const quarantine = run(['check', 'acme/hub:v1', '--policy', q, '--trust-dir', HUB.trustDir, '--now', NOW]);
    expect(quarantine.code).toBe(2);
    expect(quarantine.stderr).toContain('trustgate check: rule default requires quarantine visibility but no quarantine reader was given');
    const extra = run(['check', 'a', 'b', ...base]);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('trustgate check: check needs exactly one image reference');
    expect(extra.stdout).toBe('');
    expect(run(['check', '--help']).code).toBe(0);
  });
});

describe('trustgate admission serve', () => {
  it('usage errors exit 2', () => {
    const noSub = run(['admission']);
    expect(noSub.code).toBe(2);
    expect(noSub.stderr).toContain('trustgate: admission needs a subcommand ("serve")');
    const noTls = run(['admission', 'serve', '--policy', strict]);
    expect(noTls.code).toBe(2);
    expect(noTls.stderr).toContain('trustgate admission serve: --tls-cert FILE is required');
    expect(noTls.stdout).toBe('');
    expect(run(['admission', 'serve', '--help']).code).toBe(0);
  });

  /** Starts `admission serve` with the strict policy and the hub-like trust dir. */
  async function serve(extra: string[]) {
    const tls = selfSignedCert();
    const child = await startServe(['--policy', strict, '--trust-dir', HUB.trustDir, ...extra], tls);
    return {
      call: child.call,
      stop: () => child.stop(),
      cleanup: () => {
        child.cleanup();
        rmSync(tls.dir, { recursive: true, force: true });
      },
    };
  }

  type ReviewAnswer = { response: { uid: string; allowed: boolean; status?: { code: number; message: string } } };

  it('serves /healthz and /validate over HTTPS and stops on SIGTERM', async () => {
    const server = await serve([]);
    try {
      expect(await server.call('GET', '/healthz')).toEqual({ status: 200, body: 'ok\n' });

      // pod.json under the strict policy: the acme/deleg images match no rule, so the pod is denied.
      const review = fixture('pod.json');
      const validated = await server.call('POST', '/validate', JSON.stringify(review));
      expect(validated.status).toBe(200);
      const answer = JSON.parse(validated.body) as ReviewAnswer;
      expect(answer.response.uid).toBe((review['request'] as { uid: string }).uid);
      expect(answer.response.allowed).toBe(false);
      expect(answer.response.status?.code).toBe(403);
      expect(answer.response.status?.message).toContain('containers[1] (sidecar) acme/deleg:v1: ERR_NO_MATCHING_RULE');
      expect(answer.response.status?.message).toContain('ephemeralContainers[0] (debugger) index.docker.io/acme/deleg:latest: ERR_NO_MATCHING_RULE');
      expect(await server.stop()).toBe(0);
    } finally {
      server.cleanup();
    }
  });

  it('--now is the clock every request is decided at', async () => {
    const pod = (uid: string) =>
      JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { uid, kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', object: { metadata: { name: 'app' }, spec: { containers: [{ name: 'app', image: 'docker.io/acme/hub:v1' }] } } },
      });
    const decide = async (now: string) => {
      const server = await serve(['--now', now]);
      try {
        const answer = JSON.parse((await server.call('POST', '/validate', pod(now))).body) as ReviewAnswer;
        expect(await server.stop()).toBe(0);
        return answer.response;
      } finally {
        server.cleanup();
      }
    };
    expect(await decide(NOW)).toMatchObject({ allowed: true });
    const late = await decide('2036-01-01T00:00:00Z');
    expect(late.allowed).toBe(false);
    expect(late.status?.message).toContain('ERR_METADATA_EXPIRED');
  });
});
