/**
 * A module loaded on first use, once: every caller gets the same promise, its failure
 * included. In the one-file bundle esbuild runs a lazily imported module's top level on the
 * first import and does not run it again, so a second `import()` after a failed first would
 * hand back a half-made module instead of the error; keeping the first outcome avoids that.
 */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load();
    return loaded;
  };
}
