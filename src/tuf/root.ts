/**
 * Root validation: structure, certificates, rotation, pinning, self-signature — Notary's
 * `ValidateRoot` (`trustpinning/certs.go`, spec §6).
 */
import { TrustError } from '../errors.js';
import {
  commonNameMatchesGun,
  parseCertificate,
  validityProblem,
  weakCertProblem,
  type Certificate,
} from '../crypto/certificate.js';
import { decodePemBlocks, encodePem } from '../crypto/pem.js';
import { decodeBase64 } from './base64.js';
import { checkType, checkVersion, parseExpires, type MetadataDocument } from './document.js';
import { tufKeyId, type KeyCache } from './keys.js';
import { boundedMemo } from './memo.js';
import { BASE_ROLES } from './roles.js';
import { parseSigned, rootSignedSchema, type RootSigned, type TufKeyJson } from './schema.js';
import { verifyThreshold } from './threshold.js';

/** Anchors from outside the cache; without them a cached root is trusted on first use (spec §7.10). */
export interface RootPins {
  /**
   * GUN (exact) or GUN prefix ending in `*` → TUF key IDs of acceptable root certificates, as
   * they appear in root.json (Notary's `trust_pinning.certs`). The longest matching entry wins.
   */
  certs?: Readonly<Record<string, readonly string[]>>;
  /** GUN prefix → PEM text of CA certificates that must issue the root certificate (`trust_pinning.ca`). */
  ca?: Readonly<Record<string, string>>;
}

interface CertKey {
  /** The ID the root lists the key under (its computed ID; Notary records certs under it). */
  listedId: string;
  leaf: Certificate;
  intermediates: Certificate[];
}

export interface ValidatedRoot {
  doc: MetadataDocument;
  signed: RootSigned;
  version: number;
  expiresMs: number;
  /** Leaf certificates found in `roles.root` (before validity filtering), for rotation. */
  certKeys: CertKey[];
  /** Rebuilt root key IDs whose signatures met the root threshold. */
  signedBy: string[];
}

function invalid(message: string, check: string): TrustError {
  return new TrustError('ERR_METADATA_INVALID', `root: ${message}`, { role: 'root', check });
}

/** `isValidRootStructure` (spec §2.3). */
function checkRootStructure(signed: RootSigned): void {
  checkType(signed._type, 'root');
  checkVersion(signed.version, 'root');
  for (const name of BASE_ROLES) {
    const r = Object.hasOwn(signed.roles, name) ? signed.roles[name] : undefined;
    if (!r) throw invalid(`role ${name} is missing`, 'roles');
    if (r.threshold < 1) throw invalid(`role ${name} has threshold ${r.threshold}`, 'threshold');
    for (const id of r.keyids) {
      if (!Object.hasOwn(signed.keys, id)) throw invalid(`role ${name} lists key ${id}, which is not in keys`, 'keys');
    }
  }
}

/**
 * Step 2: certificates of `roles.root` keys. A key counts only if every PEM block in it is a
 * parsable CERTIFICATE, there is at least one, and exactly one is not a CA — the first.
 */
function collectCertKeys(signed: RootSigned): { certKeys: CertKey[]; problems: string[] } {
  const certKeys: CertKey[] = [];
  const problems: string[] = [];
  const rootRole = signed.roles['root'];
  for (const id of new Set(rootRole?.keyids ?? [])) {
    const key = signed.keys[id] as TufKeyJson;
    const bundle = CERT_BUNDLES.get(key.keyval.public, () => readCertBundle(key.keyval.public));
    if (typeof bundle === 'string') problems.push(`key ${id} (${key.keytype}) ${bundle}`);
    else certKeys.push({ listedId: id, leaf: bundle[0] as Certificate, intermediates: bundle.slice(1) });
  }
  return { certKeys, problems };
}

// Parsed certificate bundles are a pure function of the key content (see memo.ts).
const CERT_BUNDLES = boundedMemo<readonly Certificate[] | string>(256);

/** The bundle's certificates, leaf first, or why it cannot be a root key. */
function readCertBundle(publicB64: string): readonly Certificate[] | string {
  const blocks = decodePemBlocks(Buffer.from(decodeBase64(publicB64)).toString('latin1'));
  if (blocks.length === 0) return 'holds no PEM certificate';
  const certs: Certificate[] = [];
  for (const b of blocks) {
    const c = b.type === 'CERTIFICATE' ? parseCertificate(b.der) : undefined;
    if (!c) return `holds a PEM block of type ${b.type} that is not a parsable certificate`;
    certs.push(c);
  }
  if (certs.filter((c) => !c.isCA).length !== 1 || certs[0]?.isCA) return 'does not hold exactly one non-CA certificate, first';
  return Object.freeze(certs);
}

function leafProblem(ck: CertKey, gun: string, now: Date | undefined): string | undefined {
  const { leaf } = ck;
  if (!commonNameMatchesGun(leaf.commonName, gun)) {
    return `certificate CN ${JSON.stringify(leaf.commonName)} does not match GUN ${JSON.stringify(gun)}`;
  }
  return weakCertProblem(leaf) ?? (now ? validityProblem(leaf, now) : undefined);
}

interface RebuiltKey {
  id: string;
  json: TufKeyJson;
  leaf: Certificate;
  intermediates: Certificate[];
}

/**
 * Notary verifies root signatures with keys rebuilt from the certificates — Go's PEM encoding
 * of the leaf plus intermediates — so a stored PEM that differs byte-wise from that encoding
 * (CRLF, other wrapping, a dropped intermediate) has an ID no signature can match (spec §6).
 */
function rebuildKey(leaf: Certificate, intermediates: Certificate[]): RebuiltKey | undefined {
  const type = leaf.publicKey.asymmetricKeyType;
  const keytype = type === 'ec' ? 'ecdsa-x509' : type === 'rsa' ? 'rsa-x509' : undefined;
  if (!keytype) return undefined;
  const pem = [leaf, ...intermediates].map((c) => encodePem('CERTIFICATE', c.der)).join('');
  const publicB64 = Buffer.from(pem, 'latin1').toString('base64');
  return {
    id: tufKeyId(keytype, publicB64),
    json: { keytype, keyval: { private: null, public: publicB64 } },
    leaf,
    intermediates,
  };
}

function keyMap(keys: RebuiltKey[]): Record<string, TufKeyJson> {
  const out = Object.create(null) as Record<string, TufKeyJson>;
  for (const k of keys) out[k.id] = k.json;
  return out;
}

function longestMatch<T>(table: Readonly<Record<string, T>> | undefined, matches: (k: string) => boolean): T | undefined {
  let best: string | undefined;
  for (const k of Object.keys(table ?? {})) if (matches(k) && (best === undefined || k.length > best.length)) best = k;
  return best === undefined || !table ? undefined : table[best];
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
 * an EKU list allowing serverAuth (spec §6.1).
 */
function chainsToCa(leaf: Certificate, intermediates: Certificate[], cas: Certificate[], now: Date): boolean {
  const ok = (c: Certificate) => validityProblem(c, now, 0) === undefined && ekuAllowsServerAuth(c) && c.unhandledCritical.length === 0;
  // `depth` is the number of intermediates between the leaf and `c`.
  const walk = (c: Certificate, depth: number): boolean => {
    if (!ok(c)) return false;
    // Go accepts a leaf that is itself in the pool of roots; otherwise a CA must have issued it.
    if (depth === 0 && cas.some((ca) => Buffer.from(ca.der).equals(Buffer.from(c.der)))) return true;
    if (cas.some((ca) => ok(ca) && mayAnchor(ca, depth) && issuedBy(c, ca))) return true;
    if (depth >= 4) return false;
    return intermediates.some((i) => i !== c && mayAnchor(i, depth) && issuedBy(c, i) && walk(i, depth + 1));
  };
  return walk(leaf, 0);
}

function loadCaPins(pem: string, now: Date): Certificate[] {
  const cas = decodePemBlocks(pem)
    .filter((b) => b.type === 'CERTIFICATE')
    .map((b) => parseCertificate(b.der))
    .filter((c): c is Certificate => c !== undefined && weakCertProblem(c) === undefined && validityProblem(c, now) === undefined);
  if (cas.length === 0) {
    throw new TrustError('ERR_INVALID_ARGUMENT', 'the pinned CA bundle holds no valid CA certificate', {
      role: 'root',
      check: 'ca pin',
    });
  }
  return cas;
}

export interface ValidateRootOptions {
  gun: string;
  now: Date;
  cache: KeyCache;
  /** The root this one rotates from: its threshold must be met with its own certificates. */
  prev?: ValidatedRoot;
  /** This document as {@link readTrustedRoot} already read it, so it is not read again. */
  read?: ValidatedRoot;
  pins?: RootPins;
}

/**
 * Validates a root document (steps 1–6 of spec §6). Version and `expires` are checked by the
 * caller, which knows whether expiry applies.
 * @throws {TrustError} `ERR_METADATA_*`, `ERR_ROOT_CERT_INVALID`, `ERR_ROOT_ROTATION_FAILED`,
 *   `ERR_ROOT_PIN_MISMATCH`, `ERR_THRESHOLD_NOT_MET`, `ERR_NO_SIGNATURES`
 */
export function validateRoot(doc: MetadataDocument, opts: ValidateRootOptions): ValidatedRoot {
  const { gun, now, cache } = opts;
  const { signed, expiresMs } = opts.read ?? readRootShape(doc);

  const { certKeys, problems } = collectCertKeys(signed);
  const leaves: RebuiltKey[] = [];
  for (const ck of certKeys) {
    const p = leafProblem(ck, gun, now);
    if (p !== undefined) {
      problems.push(`key ${ck.listedId}: ${p}`);
      continue;
    }
    const ints = ck.intermediates.filter((c) => weakCertProblem(c) === undefined && validityProblem(c, now) === undefined);
    const k = rebuildKey(ck.leaf, ints);
    if (k) leaves.push(k);
  }
  if (leaves.length === 0) {
    throw new TrustError(
      'ERR_ROOT_CERT_INVALID',
      `root: no valid root certificate for ${gun}${problems.length > 0 ? `: ${problems.join('; ')}` : ''}`,
      { role: 'root', check: 'root certificates', keyIds: signed.roles['root']?.keyids ?? [] },
    );
  }

  if (opts.prev) {
    // Rotation: the new root must also satisfy the previous root's threshold with the previous
    // root's certificates, whose expiry is not checked (spec §6 step 4, §7.6).
    const prevKeys = opts.prev.certKeys
      .filter((ck) => leafProblem(ck, gun, undefined) === undefined)
      .map((ck) => rebuildKey(ck.leaf, ck.intermediates))
      .filter((k): k is RebuiltKey => k !== undefined);
    const prevThreshold = opts.prev.signed.roles['root']?.threshold ?? 1;
    try {
      if (prevKeys.length === 0) throw new Error('the previous root has no usable certificate');
      verifyThreshold(doc.envelope, doc.message(), {
        role: 'root',
        keyIds: prevKeys.map((k) => k.id),
        keys: keyMap(prevKeys),
        threshold: prevThreshold,
      }, cache);
    } catch (cause) {
      throw new TrustError(
        'ERR_ROOT_ROTATION_FAILED',
        `root version ${signed.version} is not signed by ${prevThreshold} key(s) of the trusted root version ${opts.prev.version}`,
        { role: 'root', check: 'root rotation', expected: prevThreshold, keyIds: prevKeys.map((k) => k.id), cause },
      );
    }
  }

  const pinned = applyPins(leaves, gun, now, opts.pins);

  const rootThreshold = signed.roles['root']?.threshold ?? 1;
  const signedBy = verifyThreshold(doc.envelope, doc.message(), {
    role: 'root',
    keyIds: pinned.map((k) => k.id),
    keys: keyMap(pinned),
    threshold: rootThreshold,
  }, cache);

  return { doc, signed, version: signed.version, expiresMs, certKeys, signedBy };
}

/**
 * A root the caller already trusted (from its saved state). It was verified when it was saved,
 * so only its structure and certificates are read: they are what a rotation must satisfy.
 */
export function readTrustedRoot(doc: MetadataDocument): ValidatedRoot {
  const { signed, expiresMs } = readRootShape(doc);
  const { certKeys } = collectCertKeys(signed);
  return { doc, signed, version: signed.version, expiresMs, certKeys, signedBy: [] };
}

/** Types, case variants, Notary's root structure rules and the `expires` format. */
function readRootShape(doc: MetadataDocument): { signed: RootSigned; expiresMs: number } {
  const signed = parseSigned(rootSignedSchema, doc.envelope.signed, 'root', doc.file, 'root');
  checkRootStructure(signed);
  return { signed, expiresMs: parseExpires(signed.expires, 'root') };
}

/** Step 5: trust pinning, precedence certs > CA > TOFU (spec §6.1). */
function applyPins(leaves: RebuiltKey[], gun: string, now: Date, pins: RootPins | undefined): RebuiltKey[] {
  const certs = pins?.certs;
  const ids = certs && Object.hasOwn(certs, gun) ? certs[gun] : longestMatch(certs, (k) => k.endsWith('*') && gun.startsWith(k.slice(0, -1)));
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
  const caPem = longestMatch(pins?.ca, (k) => gun.startsWith(k));
  if (caPem !== undefined) {
    const cas = loadCaPins(caPem, now);
    const kept = leaves.filter((k) => chainsToCa(k.leaf, k.intermediates, cas, now));
    if (kept.length === 0) {
      throw new TrustError('ERR_ROOT_PIN_MISMATCH', `no root certificate of ${gun} chains to the pinned CA`, {
        role: 'root',
        check: 'pinned ca',
      });
    }
    return kept;
  }
  return leaves;
}
