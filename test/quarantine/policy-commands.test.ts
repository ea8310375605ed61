/**
 * Policy and waivers as audited commands (quarantine.md §6 "Policy commands", Q5, Q22): a registry
 * changes policy at run time through the service, which checks the quarantine-admin role, gives
 * the policy a new version, audits who changed it, when and from which version to which, and
 * re-evaluates every record judged under the old version before it is read again.
 */
import { describe, expect, it } from 'vitest';
import { isTrustError } from '../../src/errors.js';
import { createMemoryStore, createQuarantineService } from '../../src/quarantine/index.js';
import type { QuarantineConfigInput } from '../../src/quarantine/index.js';
import { D, REPO, T0, ci, dev, ops, writer } from './harness.js';

const admin = { id: 'secops', roles: ['quarantine-admin'] } as const;
const HIGH = { id: 'CVE-2024-0001', severity: 'High' };
const DAY = 86_400_000;

function setup(config: QuarantineConfigInput = { scanners: ['s1'] }) {
  const store = createMemoryStore();
  let now = T0;
  const q = createQuarantineService({ store, config, clock: () => now });
  const pass = (digest: string, generation: number, scannerId = 's1', findings: unknown[] = []) =>
    q.verdict({ repository: REPO, digest, generation, scannerId, idempotencyKey: `${scannerId}-${generation}`, result: 'pass', findings: findings as never, principal: writer });
  return { store, q, pass, tick: (ms: number) => (now += ms) };
}
const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isTrustError(e) ? e.code : String(e)));

describe('setPolicy', () => {
  it('needs quarantine-admin: an overrider is refused, audited, and the policy is unchanged', async () => {
    const { store, q } = setup();
    expect(await codeOf(q.setPolicy({ policy: { scanners: ['s1', 's2'] }, reason: 'add grype', principal: ops }))).toBe('ERR_UNAUTHORIZED');
    expect((await q.policy()).policyVersion).toBe('1');
    expect(await store.readAudit()).toMatchObject([{ command: 'setPolicy', outcome: 'rejected', code: 'ERR_UNAUTHORIZED', actor: 'ops', principalKind: 'overrider' }]);
  });

  it('adding a scanner: versioned, audited, and a digest passed by the old quorum is hidden at once, then rescanned (Q5, Q20)', async () => {
    const { store, q, pass, tick } = setup();
    await q.push({ repository: REPO, digest: D[0], tag: 'v1', principal: ci });
    await pass(D[0], 1);
    expect((await q.view(REPO)).manifest(dev, { tag: 'v1' }).allowed).toBe(true);
    tick(1000);
    const config = await q.setPolicy({ policy: { scanners: ['s1', 's2'] }, reason: 'add grype', principal: admin });
    expect(config.policyVersion).toBe('1+1');
    const audit = await store.readAudit();
    expect(audit.at(-1)).toMatchObject({ command: 'setPolicy', outcome: 'applied', actor: 'secops', principalKind: 'admin', at: T0 + 1000, policyVersion: '1+1' });
    expect(audit.at(-1)?.reason).toContain('policy 1 → 1+1');
    // At once, before anything is written in the repository.
    expect((await q.view(REPO)).manifest(dev, { tag: 'v1' }).allowed).toBe(false);
    // The next command there persists the re-evaluation, with its event and audit record.
    await q.tick();
    const rec = (await q.view(REPO)).record(D[0]);
    expect(rec).toMatchObject({ state: 'Quarantined', generation: 2, policyVersion: '1+1' });
    expect((await store.allEvents()).map((e) => e.event.type)).toContain('scan.requested');
    await pass(D[0], 2, 's1');
    expect((await q.view(REPO)).manifest(dev, { tag: 'v1' }).allowed).toBe(false);
    await pass(D[0], 2, 's2');
    expect((await q.view(REPO)).manifest(dev, { tag: 'v1' }).allowed).toBe(true);
  });

  it('an invalid policy is refused with ERR_INVALID_COMMAND and audited; policyVersion and waivers cannot be set', async () => {
    const { store, q } = setup();
    expect(await codeOf(q.setPolicy({ policy: { quorum: { mode: 'k-of-n', k: 3 } }, reason: 'x', principal: admin }))).toBe('ERR_INVALID_COMMAND');
    expect(await codeOf(q.setPolicy({ policy: { policyVersion: '9' }, reason: 'x', principal: admin }))).toBe('ERR_INVALID_COMMAND');
    expect(await codeOf(q.setPolicy({ policy: { waivers: [] }, reason: 'x', principal: admin }))).toBe('ERR_INVALID_COMMAND');
    expect((await store.readAudit()).map((a) => a.outcome)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((await q.policy()).policyVersion).toBe('1');
  });

  it('execute runs policy commands too', async () => {
    const { q } = setup();
    await q.execute({ type: 'setPolicy', policy: { onNewFindings: 'alert' }, reason: 'fewer outages', principal: admin });
    expect((await q.policy()).onNewFindings).toBe('alert');
  });
});

describe('addWaiver / revokeWaiver', () => {
  const findings: QuarantineConfigInput = { scanners: ['s1'], evaluation: { mode: 'findings', threshold: 'High' } };
  const waiver = { id: 'w-1', findingId: HIGH.id, scope: { kind: 'registry' as const }, reason: 'not reachable', author: 'secops', createdAt: T0, expiresAt: T0 + DAY };

  it('a waiver added by an admin lets a new verdict pass; revoking it hides the digest at once (Q5)', async () => {
    const { store, q, pass } = setup(findings);
    await q.push({ repository: REPO, digest: D[0], principal: ci });
    await q.addWaiver({ waiver, principal: admin });
    expect((await q.policy()).waivers.map((w) => w.id)).toEqual(['w-1']);
    await q.rescan({ repository: REPO, digest: D[0], principal: writer });
    await pass(D[0], 2, 's1', [HIGH]);
    expect((await q.view(REPO)).isVisible(D[0])).toBe(true);
    await q.revokeWaiver({ waiverId: 'w-1', reason: 'exploit published', principal: admin });
    expect((await q.view(REPO)).isVisible(D[0])).toBe(false);
    const audit = (await store.readAudit()).filter((a) => a.repository === undefined);
    expect(audit.map((a) => [a.command, a.outcome, a.policyVersion])).toEqual([
      ['addWaiver', 'applied', '1+1'],
      ['revokeWaiver', 'applied', '1+2'],
    ]);
  });

  it('refuses a duplicate id, an unknown id, a waiver beyond maxWaiverTtlMs, and non-admins', async () => {
    const { q } = setup(findings);
    await q.addWaiver({ waiver, principal: admin });
    expect(await codeOf(q.addWaiver({ waiver, principal: admin }))).toBe('ERR_CONFLICT');
    expect(await codeOf(q.revokeWaiver({ waiverId: 'nope', reason: 'x', principal: admin }))).toBe('ERR_NOT_FOUND');
    expect(await codeOf(q.addWaiver({ waiver: { ...waiver, id: 'w-2', expiresAt: T0 + 1000 * DAY }, principal: admin }))).toBe('ERR_INVALID_COMMAND');
    expect(await codeOf(q.addWaiver({ waiver: { ...waiver, id: 'w-3' }, principal: writer }))).toBe('ERR_UNAUTHORIZED');
  });
});
