/**
 * The fetch configuration file: which notary-server (and which extra CA) serves each registry,
 * for self-hosted notary-servers that do not live at the registry's own address.
 *
 * ```json
 * { "registries": { "registry.example.com": { "server": "https://notary.example.com:4443", "tlsCa": "ca.pem" } } }
 * ```
 *
 * Keys are registry hosts as they appear in image references (`host[:port]`), compared without
 * case; `index.docker.io` is `docker.io`, as docker normalises it. A relative `tlsCa` is taken
 * from the directory of the config file. The choice of server, strongest first: `--server`,
 * `DOCKER_CONTENT_TRUST_SERVER`, this file's entry, docker's rule (`defaultServer`).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { TrustError } from '../errors.js';
import { normaliseServer } from './server.js';

/** One registry's entry, as `FetchOptions.registries` takes it: the CA as PEM text, not a path. */
export interface RegistryServer {
  /** Base URL of the registry's notary-server. */
  server: string;
  /** Extra CA certificates (PEM) for this server only. */
  tlsCa?: string;
}

const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/;

/** `Docker.IO` → `docker.io`, `index.docker.io` → `docker.io` (distribution/reference's legacy default domain). */
export function registryKey(host: string): string {
  const h = host.toLowerCase();
  return h === 'index.docker.io' ? 'docker.io' : h;
}

const entrySchema = z.strictObject({
  server: z.string().refine((s) => {
    try {
      normaliseServer(s);
      return true;
    } catch {
      return false;
    }
  }, 'must be a plain http(s)://host[:port][/path] URL'),
  tlsCa: z.string().min(1, 'must name a PEM file').optional(),
});

const configSchema = z.strictObject({
  registries: z.record(z.string(), entrySchema),
});

/** `$XDG_CONFIG_HOME/trustgate/config.json`, else `~/.config/trustgate/config.json`. */
export function defaultConfigFile(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const xdg = env['XDG_CONFIG_HOME'];
  return join(xdg !== undefined && xdg.startsWith('/') ? xdg : join(homedir(), '.config'), 'trustgate', 'config.json');
}

/** `registries["r.example"].server` from a zod issue path. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (i === 1 && path[0] === 'registries' ? `[${JSON.stringify(String(p))}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || '(top level)';
}

const configError = (file: string, message: string, cause?: unknown) =>
  new TrustError('ERR_INVALID_ARGUMENT', `config file ${file}: ${message}`, { path: file, check: 'fetch config', ...(cause === undefined ? {} : { cause }) });

/**
 * Reads and checks a config file; the registries it names, keyed by {@link registryKey}, with
 * each CA file read. `optional`: a file that does not exist is an empty configuration (the
 * default location); a named one must exist.
 *
 * @throws {TrustError} `ERR_INVALID_ARGUMENT` naming the file and the field (a usage error)
 */
export function readFetchConfig(file: string, optional = false): Record<string, RegistryServer> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (optional && (e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw configError(file, `cannot read it: ${(e as Error).message}`, e);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw configError(file, `not JSON: ${(e as Error).message}`, e);
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    throw configError(file, `${fieldPath(issue.path)}: ${issue.message}`);
  }
  const out: Record<string, RegistryServer> = {};
  for (const [host, entry] of Object.entries(parsed.data.registries)) {
    if (!HOST.test(host.toLowerCase())) throw configError(file, `registries[${JSON.stringify(host)}]: a registry key must be host[:port], without scheme or path`);
    const key = registryKey(host);
    if (out[key] !== undefined) throw configError(file, `registries[${JSON.stringify(host)}]: names the same registry as another key (${key})`);
    out[key] = { server: entry.server, ...(entry.tlsCa === undefined ? {} : { tlsCa: readCa(file, host, entry.tlsCa) }) };
  }
  return out;
}

function readCa(file: string, host: string, ca: string): string {
  const path = resolve(dirname(file), ca);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw configError(file, `registries[${JSON.stringify(host)}].tlsCa: cannot read ${path}: ${(e as Error).message}`, e);
  }
}
