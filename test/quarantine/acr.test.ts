import { describe, it, expect } from 'vitest';
import { acrAttributes, acrEtag, acrPatchToVerdict, createMemoryStore, createQuarantineService, parseAcrEtag } from '../../src/quarantine/index.js';

const digest = `sha256:${'c'.repeat(64)}`;
const scanner = { id: 'scanner-bot', roles: ['quarantine-writer'] } as const;
const ci = { id: 'ci', roles: ['push'] } as const;
const base = { repository: 'app', digest, principal: scanner, scannerId: 'trivy' };
const strict = { legacyLastWriterWins: false, currentGeneration: 1 };

describe('ACR PATCH adapter', () => {
  it('maps quarantineState and validated quarantineDetails to a verdict', () => {
    const details = JSON.stringify({ state: 'scan failed', link: 'https://scan/1', result: { version: '0.0.1', summary: [{ severity: 'High', count: 2 }, { severity: 'Low', count: 0 }] } });
    const v = acrPatchToVerdict({ ...base, body: { quarantineState: 'Failed', quarantineDetails: details }, ifMatch: '"g3"', idempotencyKey: 'k' }, strict);
    expect(v).toMatchObject({ type: 'verdict', generation: 3, result: 'fail', scannerId: 'trivy', idempotencyKey: 'k', link: 'https://scan/1' });
    expect(v.findings).toEqual([{ id: 'acr-summary:High:1', severity: 'High' }, { id: 'acr-summary:High:2', severity: 'High' }]);
  });

  it('takes the scanner id from quarantineDetails.scanner when none is given', () => {
    const v = acrPatchToVerdict({ ...base, scannerId: undefined, body: { quarantineState: 'Passed', quarantineDetails: '{"scanner":"grype"}' }, ifMatch: 'W/"g1"', idempotencyKey: 'k' }, strict);
    expect(v.scannerId).toBe('grype');
  });

  it.each([
    ['unknown quarantineState', { quarantineState: 'Quarantined' }],
    ['extra body member', { quarantineState: 'Passed', extra: 1 }],
    ['details not JSON', { quarantineState: 'Passed', quarantineDetails: '{nope' }],
    ['details extra member', { quarantineState: 'Passed', quarantineDetails: '{"state":"x","foo":1}' }],
    ['summary over 5 items', { quarantineState: 'Passed', quarantineDetails: JSON.stringify({ result: { version: '1', summary: Array(6).fill({ severity: 'Low', count: 1 }) } }) }],
    ['result without version', { quarantineState: 'Passed', quarantineDetails: JSON.stringify({ result: { summary: [] } }) }],
    ['bad severity', { quarantineState: 'Passed', quarantineDetails: JSON.stringify({ result: { version: '1', summary: [{ severity: 'Huge', count: 1 }] } }) }],
    ['description over 1024', { quarantineState: 'Passed', quarantineDetails: JSON.stringify({ result: { version: '1', summary: [], description: 'x'.repeat(1025) } }) }],
  ])('rejects %s with ERR_INVALID_COMMAND', (_name, body) => {
    expect(() => acrPatchToVerdict({ ...base, body, ifMatch: '"g1"', idempotencyKey: 'k' }, strict)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_COMMAND' }),
    );
  });

  it('requires If-Match and Idempotency-Key unless legacy mode is on', () => {
    const body = { quarantineState: 'Passed' };
    expect(() => acrPatchToVerdict({ ...base, body, idempotencyKey: 'k' }, strict)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_COMMAND' }));
    expect(() => acrPatchToVerdict({ ...base, body, ifMatch: '"g1"' }, strict)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_COMMAND' }));
    expect(() => acrPatchToVerdict({ ...base, body, ifMatch: 'abc', idempotencyKey: 'k' }, strict)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_COMMAND' }));
    const legacy = acrPatchToVerdict({ ...base, body }, { legacyLastWriterWins: true, currentGeneration: 4 });
    expect(legacy.generation).toBeUndefined();
    expect(legacy.idempotencyKey).toMatch(/^acr-legacy:4:[0-9a-f]{64}$/);
  });

  it('round-trips ETags', () => {
    expect(acrEtag(12)).toBe('"g12"');
    expect(parseAcrEtag(acrEtag(12))).toBe(12);
    expect(() => parseAcrEtag('"g0"')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_COMMAND' }));
  });
});

describe('ACR PATCH through the service', () => {
  it('applies a generation-checked PATCH, rejects stale ones, and audits malformed ones', async () => {
    const store = createMemoryStore();
    const q = createQuarantineService({ store, config: { scanners: ['trivy'] }, clock: () => 1_000 });
    await q.push({ repository: 'app', digest, tag: 'v1', principal: ci });
    await q.rescan({ repository: 'app', digest, principal: scanner });
    await expect(q.acrPatch({ ...base, body: { quarantineState: 'Passed' }, ifMatch: acrEtag(1), idempotencyKey: 'old' })).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    await expect(q.acrPatch({ ...base, body: { quarantineState: 'Nope' }, ifMatch: acrEtag(2), idempotencyKey: 'bad' })).rejects.toMatchObject({ code: 'ERR_INVALID_COMMAND' });
    const ok = await q.acrPatch({ ...base, body: { quarantineState: 'Passed', quarantineDetails: '{"state":"scan passed","link":"https://r/1"}' }, ifMatch: acrEtag(2), idempotencyKey: 'new' });
    expect(ok).toEqual({ state: 'Passed', generation: 2, decision: 'pass', duplicate: false });
    const audit = await store.readAudit({ repository: 'app', digest });
    expect(audit.filter((a) => a.outcome === 'rejected').map((a) => [a.command, a.code])).toEqual([
      ['verdict', 'ERR_CONFLICT'],
      ['acrPatch', 'ERR_INVALID_COMMAND'],
    ]);
    const rec = (await q.view('app')).record(digest);
    expect(rec && acrAttributes(rec)).toEqual({ quarantineState: 'Passed', quarantineDetails: '{"state":"scan passed","link":"https://r/1"}', etag: '"g2"' });
  });

  it('audits a malformed PATCH as the core audits a rejection: strings capped at 512, an invalid repository never loaded', async () => {
    const store = createMemoryStore();
    const loads: string[] = [];
    const q = createQuarantineService({ store: { ...store, load: (r) => (loads.push(r), store.load(r)) }, config: { scanners: ['trivy'] }, clock: () => 1_000 });
    const long = 'x'.repeat(600);
    const principal = { id: `bot-${long}`, roles: ['quarantine-writer'] } as const;
    await expect(
      q.acrPatch({ ...base, repository: 'Not/A Repo', digest: `sha256:${long}`, principal, body: { quarantineState: 'Nope' }, ifMatch: '"g1"', idempotencyKey: 'k' }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_COMMAND' });
    expect(loads).toEqual([]);
    await expect(q.acrPatch({ ...base, body: { quarantineState: 'Nope' }, ifMatch: '"g1"', idempotencyKey: 'k' })).rejects.toMatchObject({ code: 'ERR_INVALID_COMMAND' });
    expect(loads).toEqual(['app']);
    const audit = await store.readAudit();
    expect(audit.map((a) => [a.command, a.outcome, a.code, a.repository, a.principalKind])).toEqual([
      ['acrPatch', 'rejected', 'ERR_INVALID_COMMAND', undefined, 'writer'],
      ['acrPatch', 'rejected', 'ERR_INVALID_COMMAND', 'app', 'writer'],
    ]);
    expect(audit[0]).toMatchObject({ actor: principal.id.slice(0, 512), digest: `sha256:${long}`.slice(0, 512) });
    expect(audit[1]).toMatchObject({ actor: scanner.id, digest });
  });

  it('legacy last-writer-wins: a PATCH without headers opens a new generation when the last one is decided', async () => {
    const q = createQuarantineService({ store: createMemoryStore(), config: { scanners: ['trivy'], legacyLastWriterWins: true }, clock: () => 1_000 });
    await q.push({ repository: 'app', digest, principal: ci });
    expect(await q.acrPatch({ ...base, body: { quarantineState: 'Passed' } })).toMatchObject({ state: 'Passed', generation: 1 });
    expect(await q.acrPatch({ ...base, body: { quarantineState: 'Passed' } })).toMatchObject({ duplicate: true });
    expect(await q.acrPatch({ ...base, body: { quarantineState: 'Failed' } })).toMatchObject({ state: 'Failed', generation: 2 });
    expect(await q.acrPatch({ ...base, body: { quarantineState: 'Passed' } })).toMatchObject({ state: 'Passed', generation: 3 });
  });
});

describe('ACR payload request', () => {
  it("carries the push's HTTP request into its quarantine payload, and from the stored record into the push payload a verdict fires", async () => {
    const request = { id: 'req-1', host: 'registry.example:5000', method: 'PUT', useragent: 'skopeo/1.13.3' };
    const store = createMemoryStore();
    await createQuarantineService({ store, config: { scanners: ['trivy'] } }).push({ repository: 'app', digest, tag: 'v1', principal: ci, request });
    // Another service over the same store (a restarted registry): every row it reads is revived
    // through the record schema first (service.ts), so the request must be part of the record.
    const q = createQuarantineService({ store, config: { scanners: ['trivy'] } });
    await q.acrPatch({ ...base, body: { quarantineState: 'Passed' }, ifMatch: '"g1"', idempotencyKey: 'k1' });
    const acr = (await store.pendingEvents()).flatMap((e) => (e.event.acr === undefined ? [] : [e.event.acr]));
    expect(acr.map((p) => [p.action, p.request])).toEqual([
      ['quarantine', request],
      ['push', request],
    ]);
    // Without a request, no `request` member; and the schema bounds what a registry may put there.
    await q.push({ repository: 'app', digest: `sha256:${'d'.repeat(64)}`, principal: ci });
    expect((await store.pendingEvents()).at(-1)?.event.acr).not.toHaveProperty('request');
    await expect(q.push({ repository: 'app', digest, principal: ci, request: { ...request, extra: 1 } as typeof request })).rejects.toMatchObject({ code: 'ERR_INVALID_COMMAND' });
    await expect(q.push({ repository: 'app', digest, principal: ci, request: { ...request, id: '' } })).rejects.toMatchObject({ code: 'ERR_INVALID_COMMAND' });
  });
});
