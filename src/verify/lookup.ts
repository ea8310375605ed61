/**
 * Answering "which digest is tag T, signed by whom?" from a verified repository, with Notary's
 * walk (`tuf/tuf.go` WalkTargets, `client/reader.go`, notary-rules.md §8) and docker's precedence (§9.3).
 */
import { invalidArgument, requireObject, requireString } from '../arguments.js';
import { TrustError } from '../errors.js';
import { pathAllowed } from '../tuf/roles.js';
import type { FileMetaJson } from '../tuf/schema.js';
import type { SignedTarget, VerifiedRepository, VerifiedRole } from './types.js';

/** docker pull/run: `targets/releases` first, then `targets`; hits in other roles do not count. */
export const DOCKER_ROLE_ORDER: readonly string[] = Object.freeze(['targets/releases', 'targets']);
/** notary lookup's default. */
export const NOTARY_ROLE_ORDER: readonly string[] = Object.freeze(['targets']);

function isWithin(role: string, subtree: string): boolean {
  return role === subtree || role.startsWith(`${subtree}/`);
}

/**
 * Breadth-first over loaded roles from `targets` (notary-rules.md §8.1). A strict ancestor of `subtree` is
 * not visited but its children are queued; a role is visited iff the name is allowed by its
 * effective paths (empty name: any), it lies inside `subtree` and is not skipped; only visited
 * roles queue their children.
 */
function* walk(repo: VerifiedRepository, name: string, subtree: string, skip: ReadonlySet<string>): Generator<VerifiedRole> {
  const top = repo.roles.get('targets');
  if (!top) return;
  const queue: VerifiedRole[] = [top];
  // Each role once: the walk must stay linear whatever the delegation lists hold.
  const queued = new Set<string>([top.name]);
  for (let i = 0; i < queue.length; i++) {
    const r = queue[i] as VerifiedRole;
    const enqueueChildren = () => {
      for (const d of r.delegations) {
        const child = repo.roles.get(d.name);
        if (child && !queued.has(child.name)) {
          queued.add(child.name);
          queue.push(child);
        }
      }
    };
    if (subtree !== r.name && subtree.startsWith(`${r.name}/`)) {
      enqueueChildren();
      continue;
    }
    const visit = (name === '' || pathAllowed(name, r.paths)) && isWithin(r.name, subtree) && !skip.has(r.name);
    if (!visit) continue;
    yield r;
    enqueueChildren();
  }
}

/** A repository as {@link verifyRepository} returns it: anything else is a misuse, not a lookup miss. */
export function checkRepository(repo: unknown): asserts repo is VerifiedRepository {
  requireObject(repo, 'repo');
  const roles = (repo as { roles?: unknown }).roles;
  if (!(roles instanceof Map) || typeof (repo as { gun?: unknown }).gun !== 'string') {
    throw invalidArgument('repo must be a verified repository, as verifyRepository returns it');
  }
}

function checkRoleList(roles: unknown, what: string): asserts roles is readonly string[] {
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) throw invalidArgument(`${what} must be an array of role names`);
}

/** The lookup arguments every public function here shares. */
function checkLookup(repo: unknown, opts: unknown): void {
  checkRepository(repo);
  requireObject(opts, 'options');
  const roles = (opts as LookupOptions).roles;
  if (roles !== undefined) checkRoleList(roles, 'options.roles');
}

function toSignedTarget(name: string, meta: FileMetaJson, role: VerifiedRole): SignedTarget {
  const sha256 = Object.hasOwn(meta.hashes, 'sha256') ? Buffer.from(meta.hashes['sha256'] as string, 'base64') : undefined;
  const out: SignedTarget = {
    name,
    // A digest is 32 bytes; anything else names no pullable manifest (docker cannot pull it).
    digest: sha256?.length === 32 ? `sha256:${sha256.toString('hex')}` : '',
    length: meta.length,
    role: role.name,
    signers: role.signedBy,
    hashes: meta.hashes,
  };
  if (meta.custom !== undefined) out.custom = meta.custom;
  return out;
}

export interface LookupOptions {
  /**
   * Role priority list. Default: docker's (`targets/releases`, `targets`), where a hit in any
   * other role is refused. Give `NOTARY_ROLE_ORDER` or any list for notary's semantics.
   */
  roles?: readonly string[];
}

/** Notary's `GetTargetByName` over a priority list (notary-rules.md §8.2), or undefined. */
export function findTarget(repo: VerifiedRepository, name: string, roles: readonly string[] = NOTARY_ROLE_ORDER): SignedTarget | undefined {
  checkRepository(repo);
  requireString(name, 'name');
  checkRoleList(roles, 'roles');
  for (const role of roles) {
    const skip = new Set(roles.filter((r) => r !== role));
    for (const r of walk(repo, name, role, skip)) {
      const meta = r.targets.get(name);
      if (meta) return toSignedTarget(name, meta, r);
    }
  }
  return undefined;
}

/**
 * Resolves a tag to its signed digest. With the default (docker) order the answer's role is
 * always `targets/releases` or `targets`.
 *
 * @example
 * ```ts
 * const { digest, role, signers } = lookupTarget(repo, 'latest');
 * ```
 * @throws {TrustError} `ERR_TARGET_NOT_FOUND`, `ERR_TARGET_NO_SHA256`
 */
export function lookupTarget(repo: VerifiedRepository, name: string, opts: LookupOptions = {}): SignedTarget {
  checkLookup(repo, opts);
  requireString(name, 'name');
  const docker = opts.roles === undefined;
  const roles = opts.roles ?? DOCKER_ROLE_ORDER;
  const hit = findTarget(repo, name, roles);
  if (!hit || (docker && !DOCKER_ROLE_ORDER.includes(hit.role))) {
    const where = docker ? 'targets/releases or targets' : roles.join(', ');
    const extra = hit ? ` (only ${hit.role} signs it, which docker does not accept)` : '';
    throw new TrustError('ERR_TARGET_NOT_FOUND', `${repo.gun}: no signed target ${JSON.stringify(name)} in ${where}${extra}`, {
      check: 'target lookup',
      actual: name,
      ...(hit ? { role: hit.role } : {}),
    });
  }
  if (hit.digest === '') {
    throw new TrustError('ERR_TARGET_NO_SHA256', `${repo.gun}: target ${JSON.stringify(name)} in ${hit.role} has no valid 32-byte sha256 hash`, {
      role: hit.role,
      check: 'target sha256',
    });
  }
  return hit;
}

/**
 * Notary's `ListTargets` (notary-rules.md §8.3): every name once, from the first role in priority and walk
 * order that has it and whose paths allow it. Docker's order filters to its two roles.
 */
export function listTargets(repo: VerifiedRepository, opts: LookupOptions = {}): SignedTarget[] {
  checkLookup(repo, opts);
  const docker = opts.roles === undefined;
  const roles = opts.roles ?? DOCKER_ROLE_ORDER;
  const seen = new Map<string, SignedTarget>();
  for (const role of roles) {
    const skip = new Set(roles.filter((r) => r !== role));
    for (const r of walk(repo, '', role, skip)) {
      for (const name of r.targets.keys()) {
        if (!seen.has(name) && pathAllowed(name, r.paths)) seen.set(name, toSignedTarget(name, r.targets.get(name) as FileMetaJson, r));
      }
    }
  }
  const out = [...seen.values()];
  return docker ? out.filter((t) => DOCKER_ROLE_ORDER.includes(t.role)) : out;
}

/**
 * Notary's `GetAllTargetMetadataByName` (notary-rules.md §8.4), used by `docker trust inspect`: every role
 * holding `name`; with `name === ''` every target of every role, without path checks.
 */
export function allTargetsByName(repo: VerifiedRepository, name: string): SignedTarget[] {
  checkRepository(repo);
  requireString(name, 'name');
  const out: SignedTarget[] = [];
  for (const r of walk(repo, name, 'targets', new Set())) {
    if (name === '') {
      for (const [n, meta] of r.targets) out.push(toSignedTarget(n, meta, r));
    } else {
      const meta = r.targets.get(name);
      if (meta) out.push(toSignedTarget(name, meta, r));
    }
  }
  return out;
}
