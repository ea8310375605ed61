/**
 * Reads just enough of a not-yet-verified file to know what to download next: the `meta` entries
 * of timestamp and snapshot, the delegation names of a targets role, the version of a root.
 * Nothing learnt here is trusted: every staged byte is verified by `verifyRepository` before a
 * single file is committed. A file that cannot be peeked at stops the download, and the verifier
 * then reports what is wrong with it.
 */
import { z } from 'zod';

export interface MetaEntry {
  length: number;
  /** Hex digests by algorithm (`sha256`, `sha512`), from the base64 in the file. */
  hex: Record<string, string>;
}

const entry = z.object({ length: z.number().int().min(0), hashes: z.record(z.string(), z.string()) });
const withMeta = z.object({ signed: z.object({ meta: z.record(z.string(), entry) }) });
const withDelegations = z.object({
  signed: z.object({
    delegations: z.object({ roles: z.array(z.object({ name: z.string() })).nullish() }).nullish(),
  }),
});
const withVersion = z.object({ signed: z.object({ version: z.number().int() }) });

function json(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}

export function peekMeta(bytes: Uint8Array): Record<string, MetaEntry> | undefined {
  const r = withMeta.safeParse(json(bytes));
  if (!r.success) return undefined;
  const out: Record<string, MetaEntry> = {};
  for (const [name, e] of Object.entries(r.data.signed.meta)) {
    const hex: Record<string, string> = {};
    for (const alg of ['sha256', 'sha512']) {
      const b64 = e.hashes[alg];
      if (b64 !== undefined) hex[alg] = Buffer.from(b64, 'base64').toString('hex');
    }
    out[name] = { length: e.length, hex };
  }
  return out;
}

export function peekDelegations(bytes: Uint8Array): string[] | undefined {
  const r = withDelegations.safeParse(json(bytes));
  return r.success ? (r.data.signed.delegations?.roles ?? []).map((d) => d.name) : undefined;
}

export function peekVersion(bytes: Uint8Array): number | undefined {
  const r = withVersion.safeParse(json(bytes));
  return r.success ? r.data.signed.version : undefined;
}

/** Notary's delegation names (notary-rules.md §7.8.1); anything else is never requested. */
export function isDelegationRole(name: string): boolean {
  return name.length < 256 && /^targets(?:\/[-a-z0-9_]+)+$/.test(name);
}
