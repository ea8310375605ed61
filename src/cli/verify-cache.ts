/** Per-GUN memo of a command's verification, shared by `verify` and `inspect`. */
import { isTrustError, type TrustError } from '../errors.js';
import type { VerifiedRepository } from '../verify/types.js';

/**
 * Wraps `verify` so that each GUN is verified once per command run, however many references
 * name it. A `TrustError` is remembered and thrown again for every later reference to the GUN;
 * any other exception (a bug) is thrown as is and not remembered.
 */
export function verifyOncePerGun(verify: (gun: string) => VerifiedRepository): (gun: string) => VerifiedRepository {
  const repos = new Map<string, VerifiedRepository | TrustError>();
  return (gun) => {
    let r = repos.get(gun);
    if (r === undefined) {
      try {
        r = verify(gun);
      } catch (e) {
        if (!isTrustError(e)) throw e;
        r = e;
      }
      repos.set(gun, r);
    }
    if (r instanceof Error) throw r;
    return r;
  };
}
