import { describe, it, expect } from 'vitest';
// The README imports from 'trustgate/quarantine'; the test imports the same module from source.
import { createQuarantineService, createMemoryStore } from '../../src/quarantine/index.js';

describe('README worked example', () => {
  it('a push, a scan, a pass, a pull', async () => {
    // --- begin README example ---
    const q = createQuarantineService({ store: createMemoryStore(), config: { scanners: ['trivy'] } });
    const ci = { id: 'ci', roles: ['push'] } as const;
    const trivy = { id: 'trivy-bot', roles: ['quarantine-writer'] } as const;
    const dev = { id: 'dev', roles: [] } as const;
    const digest = 'sha256:' + 'a'.repeat(64);

    await q.push({ repository: 'app', digest, tag: 'v1', principal: ci }); // → Quarantined, generation 1
    const before = (await q.view('app')).manifest(dev, { tag: 'v1' }); // 404 MANIFEST_UNKNOWN
    const scan = (await q.view('app')).manifest(trivy, { digest }); // allowed: scanners pull by digest
    await q.verdict({ repository: 'app', digest, generation: 1, scannerId: 'trivy',
      idempotencyKey: 'scan-1', result: 'pass', principal: trivy }); // → Passed, `push` event
    const after = (await q.view('app')).manifest(dev, { tag: 'v1' }); // { allowed: true, digest }
    // --- end README example ---

    expect(before).toMatchObject({ allowed: false, response: { status: 404, code: 'MANIFEST_UNKNOWN' } });
    expect(scan).toMatchObject({ allowed: true, reason: 'quarantine-reader' });
    expect(after).toEqual({ allowed: true, digest, reason: 'visible' });
  });
});
