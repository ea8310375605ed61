/**
 * Distribution-style answers: the error envelope `{"errors":[{code,message,detail}]}` (OCI
 * distribution-spec "Error Codes") and JSON bodies with an exact Content-Length.
 *
 * @module
 */
import type { ServerResponse } from 'node:http';

/** The OCI distribution error codes the gateway sends. */
export type DistributionCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS';

/** One error to send: status, code, message and an optional machine-readable detail. */
export interface GatewayError {
  readonly status: number;
  readonly code: DistributionCode;
  readonly message: string;
  readonly detail?: unknown;
}

/** Sends `body` as JSON with its exact length (no body for HEAD). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(bytes.length), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

/** Sends one distribution error. */
export function sendError(res: ServerResponse, e: GatewayError, headers: Record<string, string> = {}): void {
  const item = e.detail === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, detail: e.detail };
  sendJson(res, e.status, { errors: [item] }, headers);
}

/** A 400 for a name outside distribution's repository grammar (path traversal included). */
export const NAME_INVALID: GatewayError = Object.freeze({ status: 400, code: 'NAME_INVALID', message: 'invalid repository name' });
/** Any route the gateway does not serve. */
export const NOT_FOUND: GatewayError = Object.freeze({ status: 404, code: 'UNSUPPORTED', message: 'the operation is unsupported' });
/** Authenticated, but the role does not allow the operation. */
export const DENIED: GatewayError = Object.freeze({ status: 403, code: 'DENIED', message: 'requested access to the resource is denied' });
/** Unknown manifest: the same body for a hidden digest and for one that never existed (quarantine.md §4, Q2). */
export const MANIFEST_UNKNOWN: GatewayError = Object.freeze({ status: 404, code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' });
/** Unknown blob, likewise. */
export const BLOB_UNKNOWN: GatewayError = Object.freeze({ status: 404, code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' });
/** Unknown repository, likewise. */
export const NAME_UNKNOWN: GatewayError = Object.freeze({ status: 404, code: 'NAME_UNKNOWN', message: 'repository name not known to registry' });

/** The distribution answer for a command the machine refused (quarantine.md §6 codes). */
export function fromMachineError(code: string, message: string): GatewayError {
  switch (code) {
    case 'ERR_UNAUTHORIZED':
    case 'ERR_UNKNOWN_SCANNER':
      return { status: 403, code: 'DENIED', message };
    case 'ERR_NOT_FOUND':
      return { status: 404, code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' };
    case 'ERR_CONFLICT':
    case 'ERR_ILLEGAL_TRANSITION':
      return { status: 409, code: 'DENIED', message };
    default:
      return { status: 400, code: 'MANIFEST_INVALID', message };
  }
}
