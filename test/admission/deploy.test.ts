/**
 * deploy/ (issue 16 item 7): the Kubernetes manifests and the Dockerfile agree with the server —
 * its flags, its port, its paths, its timeouts — and the policy they ship validates.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ADMISSION_SERVER_DEFAULTS, parsePolicy } from '../../src/admission/index.js';
import { ADMISSION_SERVE_HELP } from '../../src/cli/help.js';
import { ROOT } from './helpers.js';

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown>; data?: Record<string, string>; webhooks?: Webhook[] };
type Webhook = { name: string; failurePolicy: string; timeoutSeconds: number; sideEffects: string; admissionReviewVersions: string[]; clientConfig: { service: { name: string; namespace: string; path: string; port: number } } };
type Container = { args: string[]; ports: Array<{ name: string; containerPort: number }>; readinessProbe: Probe; livenessProbe: Probe; volumeMounts: Array<{ name: string; mountPath: string }> };
type Probe = { httpGet: { path: string; port: string | number; scheme: string } };

const DIR = join(ROOT, 'deploy', 'kubernetes');
const docs: Doc[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => {
      expect(d.errors, f).toEqual([]);
      return d.toJS() as Doc;
    }),
  );
const one = (kind: string): Doc => {
  const found = docs.filter((d) => d.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as Doc;
};

const deployment = one('Deployment');
const template = (deployment.spec as { template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[]; terminationGracePeriodSeconds: number; volumes: Array<{ name: string; configMap?: { name: string } }> } } }).template;
const container = template.spec.containers[0] as Container;
/** `--flag value` pairs of the container (a flag without a value maps to true). */
const flags = new Map<string, string | true>();
for (let i = 0; i < container.args.length; i++) {
  const a = container.args[i] as string;
  const next = container.args[i + 1];
  if (next !== undefined && !next.startsWith('--')) {
    flags.set(a, next);
    i++;
  } else flags.set(a, true);
}
const port = Number(flags.get('--port'));

describe('deploy/kubernetes', () => {
  it('has every object the webhook needs, in one namespace', () => {
    for (const kind of ['Namespace', 'ConfigMap', 'Deployment', 'Service', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'NetworkPolicy', 'PodDisruptionBudget']) one(kind);
    const ns = one('Namespace').metadata.name;
    for (const d of docs) if (!d.kind.endsWith('WebhookConfiguration') && d.kind !== 'Namespace') expect(d.metadata.namespace, d.kind).toBe(ns);
  });

  it('the container passes only flags that admission serve takes, with the files it mounts', () => {
    for (const f of flags.keys()) expect(ADMISSION_SERVE_HELP, f).toContain(`  ${f}`);
    for (const f of ['--policy', '--tls-cert', '--tls-key']) {
      const file = flags.get(f) as string;
      expect(container.volumeMounts.some((m) => file.startsWith(`${m.mountPath}/`)), f).toBe(true);
    }
    const timeout = Number(flags.get('--timeout-ms') ?? ADMISSION_SERVER_DEFAULTS.timeoutMs);
    // The drain waits up to --timeout-ms + 1 s; the grace period must cover it and the preStop sleep.
    expect(template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(timeout + 1000 + 5000);
  });

  it('ports and probes: the container port, /readyz and /healthz over HTTPS, the Service and the NetworkPolicy', () => {
    const named = container.ports.find((p) => p.containerPort === port);
    expect(named).toBeDefined();
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: named?.name, scheme: 'HTTPS' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: named?.name, scheme: 'HTTPS' });
    const svc = one('Service').spec as { selector: Record<string, string>; ports: Array<{ port: number; targetPort: string | number }> };
    expect(svc.selector).toEqual(expect.objectContaining((deployment.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels));
    expect(Object.entries(svc.selector).every(([k, v]) => template.metadata.labels[k] === v)).toBe(true);
    expect([named?.name, port]).toContain(svc.ports[0]?.targetPort);
    const np = one('NetworkPolicy').spec as { podSelector: { matchLabels: Record<string, string> }; ingress: Array<{ ports: Array<{ port: number }> }> };
    expect(np.ingress.flatMap((r) => r.ports.map((p) => p.port))).toEqual([port]);
    const pdb = one('PodDisruptionBudget').spec as { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    expect(pdb.selector.matchLabels).toEqual(np.podSelector.matchLabels);
    expect(pdb.minAvailable).toBeLessThan((deployment.spec as { replicas: number }).replicas);
  });

  it('the webhooks call /mutate and /validate on that Service, fail closed, and time out after the server does', () => {
    const svc = one('Service');
    const svcPort = (svc.spec as { ports: Array<{ port: number }> }).ports[0]?.port;
    const timeout = Number(flags.get('--timeout-ms') ?? ADMISSION_SERVER_DEFAULTS.timeoutMs);
    const paths: Record<string, string> = { MutatingWebhookConfiguration: '/mutate', ValidatingWebhookConfiguration: '/validate' };
    for (const [kind, path] of Object.entries(paths)) {
      for (const w of one(kind).webhooks ?? []) {
        expect(w.clientConfig.service).toEqual({ name: svc.metadata.name, namespace: svc.metadata.namespace, path, port: svcPort });
        expect(w).toMatchObject({ failurePolicy: 'Fail', sideEffects: 'None', admissionReviewVersions: ['v1'] });
        expect(w.timeoutSeconds * 1000).toBeGreaterThan(timeout);
      }
    }
    // An online fetch must fit in the request: --deadline below --timeout-ms.
    const deadline = String(flags.get('--deadline'));
    const ms = Number(/^(\d+)s$/.exec(deadline)?.[1]) * 1000;
    expect(ms).toBeLessThan(timeout);
  });

  it('the shipped policy validates, and the ConfigMap is the volume the --policy file is read from', () => {
    const cm = one('ConfigMap');
    const file = flags.get('--policy') as string;
    const name = file.split('/').pop() as string;
    expect(() => parsePolicy(JSON.parse(cm.data?.[name] as string))).not.toThrow();
    const mount = container.volumeMounts.find((m) => file.startsWith(`${m.mountPath}/`));
    expect(template.spec.volumes.find((v) => v.name === mount?.name)?.configMap?.name).toBe(cm.metadata.name);
  });
});

describe('deploy/Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
  it('runs admission serve from the built CLI, as a non-root user, exposing the container port', () => {
    expect(text).toMatch(/^ENTRYPOINT \["node", "\/app\/dist\/cli\.js", "admission", "serve"\]$/m);
    expect(text).toMatch(new RegExp(`^EXPOSE ${port}$`, 'm'));
    expect(text).toMatch(/^USER [1-9][0-9]*:[1-9][0-9]*$/m);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { trustgate: string }; engines: { node: string } };
    expect(`./${pkg.bin.trustgate.replace(/^\.\//, '')}`).toBe('./dist/cli.js');
    expect(text).toMatch(/^FROM node:20[-\w.]* AS build$/m);
  });
});
