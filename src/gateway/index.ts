/**
 * `trustgate/gateway`: an OCI distribution gateway in front of any registry that keeps pushed
 * images invisible to ordinary pullers until the quarantine machine says they may be seen
 * (issue 15; quarantine.md). Tags are the gateway's; the upstream is written by digest only.
 *
 * @example
 * ```ts
 * import { createGateway } from 'trustgate/gateway';
 * const g = await createGateway({ upstream: 'http://127.0.0.1:5000', config: { users: [], quarantine: { scanners: ['trivy'] } } });
 * await g.listen(5001, '127.0.0.1');
 * ```
 *
 * @module
 */
export { createGateway } from './server.js';
export type { Gateway, GatewayOptions } from './server.js';
export { parseGatewayConfig, loadGatewayConfig, gatewayConfigSchema, GATEWAY_ROLES } from './config.js';
export type { GatewayConfig, GatewayConfigInput, GatewayRole, GatewayUser, WebhookConfig } from './config.js';
export { signWebhook, SIGNATURE_HEADER } from './webhooks.js';
export { verifyManifest, MAX_MANIFEST_BYTES, MANIFEST_MEDIA_TYPES } from './manifest.js';
export type { ManifestFacts } from './manifest.js';
export { TrustError, isTrustError } from '../errors.js';
export type { TrustErrorCode } from '../errors.js';
