/**
 * An object with the keys of `builders` whose each value is built on its first read and
 * kept: `table[key]` is always the same value, and `Object.keys`, `in` and `Object.hasOwn`
 * see every key from the start, as on the plain object it stands for.
 */
export function lazyTable<T extends Record<string, () => unknown>>(
  builders: T,
): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const table = {} as { [K in keyof T]: ReturnType<T[K]> };
  for (const key of Object.keys(builders) as (keyof T & string)[]) {
    Object.defineProperty(table, key, {
      enumerable: true,
      configurable: true,
      get() {
        const value = builders[key]?.() as ReturnType<T[typeof key]>;
        // From now on a plain property: later reads cost nothing.
        Object.defineProperty(table, key, { value, enumerable: true, writable: false, configurable: false });
        return value;
      },
    });
  }
  return table;
}
