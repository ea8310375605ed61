/** Key IDs as Notary and docker show them (notary-rules.md §3.3, §3.5), for outer layers. */
export { tufKeyId, canonicalKeyId } from '../tuf/keys.js';
