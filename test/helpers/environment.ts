/** What the interop suites need to know about the machine they run on. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** An executable named `bin` is on PATH. */
export function onPath(bin: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

/** Under CI a missing notary is a failure, not a skip. */
export const underCi = !['', '0', 'false'].includes((process.env['CI'] ?? '').toLowerCase());
