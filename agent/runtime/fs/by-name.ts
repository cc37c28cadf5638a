let collator: Intl.Collator | undefined;

/**
 * Orders names as a person reads them ("file2" before "file10"). The collator is made on
 * first use, not at start-up: making one loads ICU's collation data, ~2.6 MiB of resident
 * memory an idle agent that never lists a directory does not need.
 */
export function byName(a: string, b: string): number {
  collator ??= new Intl.Collator("en", { numeric: true });
  return collator.compare(a, b);
}
