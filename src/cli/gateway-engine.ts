/**
 * The registry gateway, as `trustgate gateway` uses it; loaded by the command runner once the
 * command line is known to be good.
 */
export { defaultTrustDir } from '../trust-dir/reader.js';
export { createGateway, loadGatewayConfig } from '../gateway/index.js';
