/**
 * A bounded memo for pure functions of metadata content (decoded keys, parsed certificates):
 * servers verify the same keys on every request. Least recently used entries leave first.
 */
export interface Memo<V> {
  get(key: string, make: () => V): V;
}

export function boundedMemo<V>(max: number): Memo<V> {
  const map = new Map<string, V>();
  return {
    get(key, make) {
      if (map.has(key)) {
        const v = map.get(key) as V;
        map.delete(key);
        map.set(key, v);
        return v;
      }
      const v = make();
      map.set(key, v);
      if (map.size > max) map.delete(map.keys().next().value as string);
      return v;
    },
  };
}
