/**
 * Checks a pushed manifest before anything is written or recorded (issue 15.2): at most 4 MiB as
 * distribution allows, JSON of a known manifest or index media type that agrees with the body's
 * `mediaType`, and a body whose digest matches a digest reference. What it references (blobs,
 * children, subject) is what the machine and the blob gate need.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { digestSchema } from '../quarantine/schemas.js';
import type { GatewayError } from './respond.js';

/** distribution's `maxManifestBodySize`. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const IMAGE_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];
const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
/** The manifest media types the gateway accepts and asks the upstream for. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [...IMAGE_TYPES, ...INDEX_TYPES];

const descriptor = z.looseObject({
  mediaType: z.string().min(1).max(255),
  digest: digestSchema,
  size: z.int().nonnegative(),
  artifactType: z.string().max(255).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
const common = {
  schemaVersion: z.literal(2),
  mediaType: z.string().max(255).optional(),
  artifactType: z.string().max(255).optional(),
  subject: descriptor.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
};
const imageSchema = z.looseObject({ ...common, config: descriptor, layers: z.array(descriptor).max(4096) });
const indexSchema = z.looseObject({ ...common, manifests: z.array(descriptor).max(1024) });

/** What a verified manifest names. */
export interface ManifestFacts {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** An index's manifests. */
  readonly children: readonly string[];
  /** Config and layers: the blobs this manifest makes reachable. */
  readonly blobs: readonly string[];
  readonly subject: string | undefined;
  /** `artifactType`, else the config's media type (OCI image-spec "artifactType"). */
  readonly artifactType: string | undefined;
  readonly annotations: Readonly<Record<string, string>> | undefined;
}

/** `sha256:<hex>` (or sha512, when the reference asks for it) of `body`. */
export function digestOf(body: Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(body).digest('hex')}`;
}

const invalid = (message: string, detail?: unknown): GatewayError => ({ status: 400, code: 'MANIFEST_INVALID', message, detail });

/** The answer to a manifest body over {@link MAX_MANIFEST_BYTES}. */
export const MANIFEST_TOO_LARGE: GatewayError = Object.freeze(invalid(`manifest invalid: larger than ${MAX_MANIFEST_BYTES} bytes`));

/** The media type without parameters, lower case. */
function bareType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The JSON of `body` checked against the schema `type` calls for. */
type Shape =
  | { readonly kind: 'image'; readonly m: z.infer<typeof imageSchema> }
  | { readonly kind: 'index'; readonly m: z.infer<typeof indexSchema> }
  | { readonly kind: 'error'; readonly error: GatewayError };

function shape(body: Buffer, type: string): Shape {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { kind: 'error', error: invalid('manifest invalid: not JSON') };
  }
  const isIndex = INDEX_TYPES.includes(type);
  const r = isIndex ? indexSchema.safeParse(json) : imageSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { kind: 'error', error: invalid(`manifest invalid: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? ''}`) };
  }
  if (r.data.mediaType !== undefined && r.data.mediaType !== type) {
    return { kind: 'error', error: invalid('manifest invalid: mediaType does not match Content-Type', { mediaType: r.data.mediaType, contentType: type }) };
  }
  return isIndex ? { kind: 'index', m: r.data as z.infer<typeof indexSchema> } : { kind: 'image', m: r.data as z.infer<typeof imageSchema> };
}

/**
 * Verifies a manifest PUT body against its Content-Type and reference.
 *
 * @example
 * ```ts
 * const f = verifyManifest(body, 'application/vnd.oci.image.manifest.v1+json', { tag: 'v1' });
 * if ('code' in f) sendError(res, f);
 * ```
 */
export function verifyManifest(body: Buffer, contentType: string | undefined, ref: { tag: string } | { digest: string }): ManifestFacts | GatewayError {
  if (body.length > MAX_MANIFEST_BYTES) return MANIFEST_TOO_LARGE;
  const type = bareType(contentType);
  if (!MANIFEST_MEDIA_TYPES.includes(type)) return invalid('manifest invalid: unsupported media type', { contentType: type });
  const s = shape(body, type);
  if (s.kind === 'error') return s.error;
  const algorithm = 'digest' in ref && ref.digest.startsWith('sha512:') ? 'sha512' : 'sha256';
  const digest = digestOf(body, algorithm);
  if ('digest' in ref && ref.digest !== digest) {
    return { status: 400, code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content', detail: { expected: ref.digest, actual: digest } };
  }
  const m = s.m;
  return {
    digest,
    mediaType: type,
    size: body.length,
    children: s.kind === 'index' ? s.m.manifests.map((d) => d.digest) : [],
    blobs: s.kind === 'image' ? [s.m.config.digest, ...s.m.layers.map((d) => d.digest)] : [],
    subject: m.subject?.digest,
    artifactType: m.artifactType ?? (s.kind === 'image' ? s.m.config.mediaType : undefined),
    annotations: m.annotations,
  };
}

/** Facts of a manifest already stored upstream (digest known, no reference to check). */
export function factsOf(body: Buffer, contentType: string | undefined, digest: string): ManifestFacts | undefined {
  const f = verifyManifest(body, contentType, { digest });
  return 'code' in f ? undefined : f;
}
