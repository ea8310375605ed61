/**
 * The order tags are listed and chosen in, shared by every place that names "the first tag"
 * (`resolveReference`, `trustgate inspect`), so that the CLI and admission never disagree.
 */
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

/**
 * The "natural" order docker sorts tags and signers by: runs of digits compare as numbers
 * (fewer leading zeros first on a tie), everything else byte by byte in UTF-8, and digits sort
 * before other characters. Returns a negative, zero or positive number.
 */
export function naturalCompare(a: string, b: string): number {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const cx = x[i] as number;
    const cy = y[j] as number;
    const dx = isDigit(cx);
    const dy = isDigit(cy);
    if (dx !== dy) return dx ? -1 : 1;
    if (!dx) {
      if (cx !== cy) return cx - cy;
      i++;
      j++;
      continue;
    }
    const zx = i;
    const zy = j;
    while (i < x.length && x[i] === 0x30) i++;
    while (j < y.length && y[j] === 0x30) j++;
    const sx = i;
    const sy = j;
    while (i < x.length && isDigit(x[i] as number)) i++;
    while (j < y.length && isDigit(y[j] as number)) j++;
    const lenDiff = i - sx - (j - sy);
    if (lenDiff !== 0) return lenDiff;
    const cmp = Buffer.compare(x.subarray(sx, i), y.subarray(sy, j));
    if (cmp !== 0) return cmp;
    const zeros = sx - zx - (sy - zy);
    if (zeros !== 0) return zeros;
  }
  return x.length - i - (y.length - j);
}

