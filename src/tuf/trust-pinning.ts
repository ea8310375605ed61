/**
 * Trust pinning: which root certificates a caller accepts besides trust on first use — Notary's
 * `NewTrustPinChecker` (`trustpinning/trustpin.go`, notary-rules.md §6.1). Precedence is certs >
 * CA > TOFU: key IDs pinned for the GUN (exact, else the longest `prefix*`), else CA bundles
 * pinned for the longest plain GUN prefix, else every leaf that passed the certificate checks.
 */
import { requireString } from '../arguments.js';
import { TrustError } from '../errors.js';
import { parseCertificate, validityProblem, weakCertProblem, type Certificate } from '../crypto/certificate.js';
import { decodePemBlocks } from '../crypto/pem.js';

/**
 * Anchors from outside the cache, as a table over GUNs (Notary's `trust_pinning` config);
 * without them a cached root is trusted on first use (notary-rules.md §7.10).
 */
export interface RootPins {
  /**
   * GUN (exact) or GUN prefix ending in `*` → TUF key IDs of acceptable root certificates, as
   * they appear in root.json (Notary's `trust_pinning.certs`). The longest matching entry wins.
   */
  certs?: Readonly<Record<string, readonly string[]>>;
  /** GUN prefix → PEM text of CA certificates that must issue the root certificate (`trust_pinning.ca`). */
  ca?: Readonly<Record<string, string>>;
}

/**
 * The pins that apply to exactly one GUN, already selected from a {@link RootPins} table (see
 * {@link resolvePins}) or given directly, e.g. from `--pin-root`. `certIds` wins over `ca`;
 * neither means trust on first use.
 */
export interface ResolvedPins {
  /** TUF key IDs of acceptable root certificates; an empty list accepts none. */
  certIds?: readonly string[];
  /** PEM text of the CA certificates that must issue the root certificate. */
  ca?: string;
}

function badPins(message: string): TrustError {
  return new TrustError('ERR_INVALID_ARGUMENT', `pins: ${message}`, { check: 'pins' });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkIdList(ids: unknown, where: string): readonly string[] {
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw badPins(`${where} must be an array of key ID strings`);
  return ids as readonly string[];
}

/** A resolved form is recognised by its fields: `certIds`, or a `ca` that is PEM text rather than a table. */
export function isResolvedPins(pins: RootPins | ResolvedPins): pins is ResolvedPins {
  return 'certIds' in pins || typeof pins.ca === 'string';
}

/** A GUN table's entry for `gun`: the exact key, else the longest `prefix*` key that covers it (Notary's `trust_pinning.certs` rule). */
export function gunEntry<T>(table: Readonly<Record<string, T>> | undefined, gun: string): T | undefined {
  return table && Object.hasOwn(table, gun) ? table[gun] : longestPrefixEntry(table, gun, '*');
}

/**
 * The entry whose key is `p + suffix` for the longest prefix `p` of `gun` that has one ("the
 * longest match wins"). The table's key lengths are tried longest first, so the first hit is the
 * answer and no two lengths are ever compared; a key longer than `gun + suffix` can only be hit as
 * `gun + suffix` itself, which is the longest match there is.
 */
function longestPrefixEntry<T>(table: Readonly<Record<string, T>> | undefined, gun: string, suffix: '' | '*'): T | undefined {
  if (table === undefined) return undefined;
  const lengths = [...new Set(Object.keys(table).map((k) => k.length))].sort((a, b) => b - a);
  for (const n of lengths) {
    const key = gun.slice(0, n - suffix.length) + suffix;
    if (Object.hasOwn(table, key)) return table[key];
  }
  return undefined;
}

/**
 * The pins a table gives one GUN, with Notary's selection (notary-rules.md §6.1): certs by exact
 * GUN, else by the longest `prefix*` entry; CA by the longest plain prefix. A resolved form is
 * checked and returned as it is.
 * @throws {TrustError} `ERR_INVALID_ARGUMENT` for pins of the wrong shape.
 */
export function resolvePins(pins: RootPins | ResolvedPins, gun: string): ResolvedPins {
  requireString(gun, 'gun');
  if (!isPlainObject(pins)) throw badPins('expected an object');
  if (isResolvedPins(pins)) {
    if (pins.ca !== undefined && typeof pins.ca !== 'string') throw badPins('ca must be PEM text');
    const certIds = pins.certIds === undefined ? undefined : checkIdList(pins.certIds, 'certIds');
    return { ...(certIds ? { certIds } : {}), ...(pins.ca !== undefined ? { ca: pins.ca } : {}) };
  }
  const { certs, ca } = pins;
  if (certs !== undefined && !isPlainObject(certs)) throw badPins('certs must map GUNs to key ID lists');
  if (ca !== undefined && !isPlainObject(ca)) throw badPins('ca must map GUN prefixes to PEM text');
  const ids = gunEntry(certs, gun);
  if (ids !== undefined) return { certIds: checkIdList(ids, `certs[${JSON.stringify(gun)}]`) };
  const caPem = longestPrefixEntry(ca, gun, '');
  if (caPem === undefined) return {};
  if (typeof caPem !== 'string') throw badPins('ca entries must be PEM text');
  return { ca: caPem };
}

const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const EKU_ANY = '2.5.29.37.0';

function ekuAllowsServerAuth(c: Certificate): boolean {
  const eku = c.x509.keyUsage as string[] | undefined;
  return !eku || eku.length === 0 || eku.includes(EKU_SERVER_AUTH) || eku.includes(EKU_ANY);
}

/** `parent` may sign `child`: Go refuses parents that are not CA certificates (NotAuthorizedToSign). */
function issuedBy(child: Certificate, parent: Certificate): boolean {
  if (!parent.isCA) return false;
  try {
    return child.x509.checkIssued(parent.x509) && child.x509.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/**
 * May `parent` sign for a chain that already holds `below` intermediates under it? Go's
 * `isValid` for intermediates and roots: a pathLenConstraint bounds the intermediates below.
 * Name constraints are not evaluated here: a chain through a CA that has them is refused
 * (stricter than Go, which checks them only against subject alternative names).
 */
function mayAnchor(parent: Certificate, below: number): boolean {
  if (parent.maxPathLen >= 0 && below > parent.maxPathLen) return false;
  return !parent.nameConstraints;
}

/**
 * Go's default chain verification as Notary's CA pinning uses it: leaf → intermediates → one of
 * the CAs, every parent a CA certificate whose path length allows the chain below it, every
 * certificate valid now with no leeway, without critical extensions Go does not handle, and with
 * an EKU list allowing serverAuth (notary-rules.md §6.1).
 */
function chainsToCa(leaf: Certificate, intermediates: readonly Certificate[], cas: readonly Certificate[], now: Date): boolean {
  const ok = (c: Certificate) => validityProblem(c, now, 0) === undefined && ekuAllowsServerAuth(c) && c.unhandledCritical.length === 0;
  // `depth` is the number of intermediates between the leaf and `c`.
  const walk = (c: Certificate, depth: number): boolean => {
    if (!ok(c)) return false;
    if (cas.some((ca) => ok(ca) && mayAnchor(ca, depth) && issuedBy(c, ca))) return true;
    if (depth >= 4) return false;
    // `i !== c` spares a self-issued intermediate a useless second pass (the depth bound ends it anyway).
    return intermediates.some((i) => i !== c && mayAnchor(i, depth) && issuedBy(c, i) && walk(i, depth + 1));
  };
  // Go accepts a leaf that is itself in the pool of roots; otherwise a CA must have issued it.
  // (An intermediate equal to a pooled CA needs no such rule: that CA anchors the level below.)
  const pooled = cas.some((ca) => Buffer.from(ca.der).equals(Buffer.from(leaf.der)));
  return (pooled && ok(leaf)) || walk(leaf, 0);
}

function badCaPin(message: string): TrustError {
  return new TrustError('ERR_INVALID_ARGUMENT', message, { role: 'root', check: 'ca pin' });
}

/**
 * The pinned CA bundle. As Notary's `LoadCertBundleFromPEM`, a block that is not a parsable
 * CERTIFICATE makes the whole bundle unusable; then, as `NewTrustPinChecker`, certificates that
 * fail the checks of notary-rules.md §6 step 3 are ignored, and none left is an error.
 */
function loadCaPins(pem: string, now: Date): Certificate[] {
  const parsed = decodePemBlocks(pem).map((b) => {
    const c = b.type === 'CERTIFICATE' ? parseCertificate(b.der) : undefined;
    if (!c) throw badCaPin(`the pinned CA bundle holds a PEM block of type ${b.type} that is not a parsable certificate`);
    return c;
  });
  const cas = parsed.filter((c) => weakCertProblem(c) === undefined && validityProblem(c, now) === undefined);
  if (cas.length === 0) {
    throw badCaPin('the pinned CA bundle holds no valid CA certificate');
  }
  return cas;
}

/** A root leaf certificate as pinning sees it: the ID of its rebuilt key, the leaf and its intermediates. */
export interface PinCandidate {
  id: string;
  leaf: Certificate;
  intermediates: readonly Certificate[];
}

/**
 * Step 5 of `ValidateRoot` (notary-rules.md §6): keeps the leaves the pins accept.
 * @throws {TrustError} `ERR_ROOT_PIN_MISMATCH` when none is left.
 */
export function applyPins<T extends PinCandidate>(leaves: readonly T[], gun: string, now: Date, pins: ResolvedPins | undefined): T[] {
  const ids = pins?.certIds;
  if (ids) {
    const kept = leaves.filter((k) => ids.includes(k.id));
    if (kept.length === 0) {
      throw new TrustError(
        'ERR_ROOT_PIN_MISMATCH',
        `root of ${gun} is signed by none of the pinned root keys (${ids.join(', ')}); found ${leaves.map((k) => k.id).join(', ')}`,
        { role: 'root', check: 'pinned root key ids', expected: ids.join(','), actual: leaves.map((k) => k.id).join(','), keyIds: ids },
      );
    }
    return kept;
  }
  if (pins?.ca !== undefined) {
    const cas = loadCaPins(pins.ca, now);
    const kept = leaves.filter((k) => chainsToCa(k.leaf, k.intermediates, cas, now));
    if (kept.length === 0) {
      throw new TrustError('ERR_ROOT_PIN_MISMATCH', `no root certificate of ${gun} chains to the pinned CA`, {
        role: 'root',
        check: 'pinned ca',
      });
    }
    return kept;
  }
  return [...leaves];
}
