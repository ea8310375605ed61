/**
 * Root validation: structure, certificates, rotation, pinning, self-signature — Notary's
 * `ValidateRoot` (`trustpinning/certs.go`, notary-rules.md §6).
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
import { applyPins, type ResolvedPins } from './trust-pinning.js';

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

/** `isValidRootStructure` (notary-rules.md §2.3). */
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
    const bundle = certBundle(key);
    if (typeof bundle === 'string') problems.push(`key ${id} (${key.keytype}) ${bundle}`);
    else certKeys.push({ listedId: id, leaf: bundle[0] as Certificate, intermediates: bundle.slice(1) });
  }
  return { certKeys, problems };
}

// Parsed certificate bundles are a pure function of the key content (see memo.ts).
const CERT_BUNDLES = boundedMemo<readonly Certificate[] | string>(256);

/** A root key's certificates, leaf first, or why it cannot be a root key: read once per content. */
function certBundle(key: TufKeyJson): readonly Certificate[] | string {
  return CERT_BUNDLES.get(key.keyval.public, () => readCertBundle(key.keyval.public));
}

/** The certificates of a root key as step 2 reads them, leaf first; none when it is no certificate bundle. */
export function rootKeyCertificates(key: TufKeyJson): readonly Certificate[] {
  const bundle = certBundle(key);
  return typeof bundle === 'string' ? [] : bundle;
}

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
  return bundleShapeProblem(certs) ?? Object.freeze(certs);
}

/** Notary wants exactly one leaf (non-CA) certificate, first; the CA certificates after it are intermediates (notary-rules.md §6 step 2). */
function bundleShapeProblem(certs: readonly Certificate[]): string | undefined {
  const leaves = certs.filter((c) => !c.isCA).length;
  if (leaves > 1) return `holds ${leaves} leaf certificates; exactly one is allowed`;
  if (certs[0]?.isCA) {
    return leaves === 0
      ? "holds a CA certificate where the root's leaf certificate belongs"
      : "holds a CA certificate where the root's leaf certificate belongs; the leaf must come first";
  }
  return undefined;
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
 * (CRLF, other wrapping, a dropped intermediate) has an ID no signature can match (notary-rules.md §6).
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

export interface ValidateRootOptions {
  gun: string;
  now: Date;
  cache: KeyCache;
  /** The root this one rotates from: its threshold must be met with its own certificates. */
  prev?: ValidatedRoot;
  /** This document as {@link readTrustedRoot} already read it, so it is not read again. */
  read?: ValidatedRoot;
  /** Pins already selected for this GUN (trust-pinning.ts). */
  pins?: ResolvedPins;
}

/** Step 3: leaves that pass Notary's checks, rebuilt with their surviving intermediates. */
function validLeaves(signed: RootSigned, gun: string, now: Date): RebuiltKey[] {
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
  return leaves;
}

/**
 * Step 4, rotation: the new root must also satisfy the previous root's threshold with the
 * previous root's certificates, whose expiry is not checked (notary-rules.md §6 step 4, §7.6).
 */
function checkSignedByPrevious(doc: MetadataDocument, signed: RootSigned, prev: ValidatedRoot, gun: string, cache: KeyCache): void {
  const prevKeys = prev.certKeys
    .filter((ck) => leafProblem(ck, gun, undefined) === undefined)
    .map((ck) => rebuildKey(ck.leaf, ck.intermediates))
    .filter((k): k is RebuiltKey => k !== undefined);
  const prevThreshold = prev.signed.roles['root']?.threshold ?? 1;
  try {
    if (prevKeys.length === 0) throw new Error('the previous root has no usable certificate');
    verifyThreshold(doc.envelope, doc.message(), { role: 'root', keyIds: prevKeys.map((k) => k.id), keys: keyMap(prevKeys), threshold: prevThreshold }, cache);
  } catch (cause) {
    throw new TrustError(
      'ERR_ROOT_ROTATION_FAILED',
      `root version ${signed.version} is not signed by ${prevThreshold} key(s) of the trusted root version ${prev.version}`,
      { role: 'root', check: 'root rotation', expected: prevThreshold, keyIds: prevKeys.map((k) => k.id), cause },
    );
  }
}

/**
 * Validates a root document (steps 1–6 of notary-rules.md §6). Version and `expires` are checked
 * by the caller, which knows whether expiry applies.
 * @throws {TrustError} `ERR_METADATA_*`, `ERR_ROOT_CERT_INVALID`, `ERR_ROOT_ROTATION_FAILED`,
 *   `ERR_ROOT_PIN_MISMATCH`, `ERR_THRESHOLD_NOT_MET`, `ERR_NO_SIGNATURES`
 */
export function validateRoot(doc: MetadataDocument, opts: ValidateRootOptions): ValidatedRoot {
  const { gun, now, cache } = opts;
  const read = opts.read ?? readTrustedRoot(doc);
  const { signed } = read;
  const leaves = validLeaves(signed, gun, now);
  if (opts.prev) checkSignedByPrevious(doc, signed, opts.prev, gun, cache);
  // Step 5: trust pinning (trust-pinning.ts); step 6: the root's own threshold.
  const pinned = applyPins(leaves, gun, now, opts.pins);
  const threshold = signed.roles['root']?.threshold ?? 1;
  const signedBy = verifyThreshold(doc.envelope, doc.message(), { role: 'root', keyIds: pinned.map((k) => k.id), keys: keyMap(pinned), threshold }, cache);
  return { ...read, signedBy };
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
