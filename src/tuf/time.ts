/**
 * Strict RFC 3339 as Go's `time.Time` JSON decoding reads it (notary-rules.md §2.2, §7.11): upper-case `T`
 * and `Z`, offsets with a colon, 1–9 fraction digits, real calendar dates. `new Date()` is far
 * more lenient (local time, lower case, `+0100`, hour 24), so it is never used on metadata.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** Milliseconds since the epoch, truncated (never rounded up), or undefined if not RFC 3339. */
export function parseRfc3339(s: string): number | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number, number, number, number, number, number,
  ];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = month === 2 ? (isLeap(year) ? 29 : 28) : [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (day < 1 || day > (daysInMonth as number)) return undefined;
  let offsetMin = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[8] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  const ms = Number((m[7] ?? '').slice(0, 3).padEnd(3, '0'));
  return d.getTime() + ms - offsetMin * 60_000;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/**
 * Notary's rule: expired ⇔ `expires < now`, no skew (notary-rules.md §7.11). With `expires` truncated to
 * milliseconds this is exactly `expiresMs < nowMs`, because `now` has millisecond precision.
 */
export function isExpired(expiresMs: number, now: Date): boolean {
  return expiresMs < now.getTime();
}
