/**
 * Docker image references, parsed and normalised the way the docker CLI does before it asks
 * Notary anything (`ParseNormalizedNamed` of distribution/reference, notary-rules.md §9.2):
 *
 * ```
 * reference  := name [ ":" tag ] [ "@" digest ]
 * name       := [ domain "/" ] path
 * domain     := host [ ":" port ]           host: DNS name (any case), or [IPv6]
 * path       := component ( "/" component )*
 * component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 * tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 * digest     := "sha256:" 64 lower-case hex digits   (the only algorithm Notary targets carry)
 * ```
 *
 * The first `/`-separated part is a domain when it contains `.` or `:`, is `localhost`, or has
 * an upper-case letter; otherwise the domain is `docker.io`. `index.docker.io` becomes
 * `docker.io`, and a single-component Docker Hub path gets `library/`.
 */
import { requireObject, requireString } from '../arguments.js';
import { TrustError } from '../errors.js';

/** A parsed, normalised image reference. */
export interface ImageReference {
  /** The reference as given. */
  input: string;
  /** Registry host (and port) after normalisation, e.g. `docker.io` or `127.0.0.1:5000`. */
  domain: string;
  /** Repository path after normalisation, e.g. `library/alpine`. */
  path: string;
  /** `domain/path`: the Notary GUN, e.g. `docker.io/library/alpine`. */
  gun: string;
  /** The tag as written, or undefined when none was given (docker then means `latest`). */
  tag: string | undefined;
  /** `sha256:<hex>` when the reference pins a digest. */
  digest: string | undefined;
}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
/** distribution/reference `NameTotalLengthMax`: the whole name, domain included. */
const MAX_NAME_LENGTH = 255;

const DOMAIN_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** Any `algorithm:hex` docker would recognise as a digest (checked before the sha256 rule). */
const DIGEST_SHAPE_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const SHA256_RE = /^sha256:[0-9a-f]{64}$/;
const HEX64_RE = /^[0-9a-f]{64}$/;

function bad(input: string, reason: string): TrustError {
  return new TrustError('ERR_INVALID_REFERENCE', `invalid reference ${JSON.stringify(input)}: ${reason}`, {
    check: 'reference syntax',
    actual: input,
  });
}

/** docker's `splitDockerDomain`. */
function splitDomain(name: string): { domain: string; rest: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const isDomain =
    slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first);
  let domain = isDomain ? first : DEFAULT_DOMAIN;
  let rest = isDomain ? name.slice(slash + 1) : name;
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !rest.includes('/')) rest = OFFICIAL_PREFIX + rest;
  return { domain, rest };
}

/**
 * Parses an image reference as `docker pull` / `docker trust inspect` do and returns its GUN,
 * tag and digest.
 *
 * @example
 * ```ts
 * parseReference('alpine');                 // gun docker.io/library/alpine, tag undefined
 * parseReference('127.0.0.1:5000/acme/edge:v1').gun; // '127.0.0.1:5000/acme/edge'
 * ```
 * @throws {TrustError} `ERR_INVALID_REFERENCE`
 */
export function parseReference(input: string): ImageReference {
  requireString(input, 'reference');
  if (typeof input !== 'string' || input === '') throw bad(String(input), 'repository name must have at least one component');
  if (HEX64_RE.test(input)) throw bad(input, 'a 64-character hexadecimal string is an image ID, not a repository name');

  // Split off "@digest", then ":tag" (a ":" after the last "/" — earlier ones belong to a port).
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_SHAPE_RE.test(digest)) throw bad(input, `${JSON.stringify(digest)} is not a digest (algorithm:hex)`);
    if (!SHA256_RE.test(digest)) {
      const reason = digest.startsWith('sha256:')
        ? 'a sha256 digest must be 64 lower-case hexadecimal digits'
        : `unsupported digest algorithm ${JSON.stringify(digest.slice(0, digest.indexOf(':')))} (Notary signs sha256)`;
      throw bad(input, reason);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad(input, `${JSON.stringify(tag)} is not a valid tag (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`);
  }
  if (rest === '') throw bad(input, 'repository name must have at least one component');

  const { domain, rest: path } = splitDomain(rest);
  if (path.toLowerCase() !== path) throw bad(input, `repository name ${JSON.stringify(path)} must be lowercase`);
  if (domain !== DEFAULT_DOMAIN && !DOMAIN_RE.test(domain)) throw bad(input, `${JSON.stringify(domain)} is not a valid registry host`);
  for (const component of path.split('/')) {
    if (!COMPONENT_RE.test(component)) {
      throw bad(
        input,
        component === ''
          ? 'repository path has an empty component'
          : `path component ${JSON.stringify(component)} is invalid (lower-case letters and digits, joined by ".", "_", "__" or "-")`,
      );
    }
  }
  const gun = `${domain}/${path}`;
  if (gun.length > MAX_NAME_LENGTH) throw bad(input, `repository name must not be more than ${MAX_NAME_LENGTH} characters`);
  return { input, domain, path, gun, tag, digest };
}

/** True when `name` can be written as the tag of a docker reference. */
export function isValidTag(name: string): boolean {
  requireString(name, 'tag');
  return TAG_RE.test(name);
}

/** `gun[:tag][@digest]`, the fully qualified form docker prints. */
export function formatReference(ref: Pick<ImageReference, 'gun' | 'tag' | 'digest'>): string {
  requireObject(ref, 'reference');
  requireString(ref.gun, 'reference.gun');
  for (const k of ['tag', 'digest'] as const) if (ref[k] !== undefined) requireString(ref[k], `reference.${k}`);
  return `${ref.gun}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}
