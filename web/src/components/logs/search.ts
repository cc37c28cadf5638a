import type { LogLine } from "./log-line";

/** The positions in `lines` whose text contains `query` (ignoring case); none for an empty query. */
export function matchRows(lines: readonly LogLine[], query: string): number[] {
  const needle = query.toLowerCase();
  if (!needle) return [];
  const rows: number[] = [];
  for (let index = 0; index < lines.length; index++) {
    if (lines[index]?.folded.includes(needle)) rows.push(index);
  }
  return rows;
}

/** A piece of text and whether it is a match of the search, for `<mark>`. */
export interface TextPiece {
  text: string;
  match: boolean;
}

/** `text` cut into matching and non-matching pieces of `query` (ignoring case). */
export function markMatches(text: string, query: string): TextPiece[] {
  const needle = query.toLowerCase();
  if (!needle) return [{ text, match: false }];
  const folded = text.toLowerCase();
  const pieces: TextPiece[] = [];
  let from = 0;
  for (let at = folded.indexOf(needle); at !== -1; at = folded.indexOf(needle, at + needle.length)) {
    if (at > from) pieces.push({ text: text.slice(from, at), match: false });
    pieces.push({ text: text.slice(at, at + needle.length), match: true });
    from = at + needle.length;
  }
  if (from < text.length || pieces.length === 0) pieces.push({ text: text.slice(from), match: false });
  return pieces;
}

/** The next (step 1) or previous (step -1) match, wrapping around; -1 when there is none. */
export function stepMatch(current: number, count: number, step: 1 | -1): number {
  if (count === 0) return -1;
  if (current < 0) return step === 1 ? 0 : count - 1;
  return (current + step + count) % count;
}
