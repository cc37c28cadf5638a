/**
 * How deep JSON may nest objects and arrays anywhere Kai parses it from outside (request
 * bodies, JSON files in a workspace). Kai's own documents need a handful of levels; far
 * deeper ones overflow the stack of the recursive steps that follow a parse
 * (`JSON.stringify`, Durable Object RPC serialisation).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The deepest nesting of `{`/`[` in a JSON text, counted in one pass without recursion (and
 * so without a stack to overflow), skipping brackets inside strings. Stops counting once
 * past `limit`. Malformed text is not judged here; the parser that follows reports it.
 */
export function jsonNesting(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c)
        i++; // a backslash escapes the next character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x7b || char === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (char === 0x7d || char === 0x5d) depth--;
  }
  return deepest;
}
