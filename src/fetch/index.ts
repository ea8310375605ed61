/**
 * trustgate/fetch: brings Docker Content Trust data from a notary-server into the trust cache,
 * verified completely before anything is written.
 *
 * @example
 * ```ts
 * import { fetchTrustData, readTrustedState } from 'trustgate/fetch';
 * const r = await fetchTrustData({ gun: 'registry.example.com/team/app', now: new Date() });
 * ```
 * @module
 */
export { fetchTrustData } from './fetch.js';
export { readTrustedState, defaultStateDir } from './state.js';
export type { TrustedStateRecord } from './state.js';
export { defaultServer } from './server.js';
export { readFetchConfig, defaultConfigFile } from './config.js';
export { dockerConfigCredentials, defaultDockerConfigDir } from './auth.js';
export type { Credentials, RegistryServer, FetchOptions, FetchPins, FetchProgress, FetchResult, RoleChange } from './types.js';
