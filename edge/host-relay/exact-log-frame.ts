import { MAX_FRAME_BYTES, requestId } from "../../shared/protocol";

/**
 * A `chunks` frame of log entries whose text is exactly what kai-agent writes
 * (agent/chunk-batcher.ts, agent/chunk-json.ts), read without JSON.parse: a batched viewer is
 * then sent the entries' text as it came. Parsing each line, checking it and writing it again
 * for the viewer cost about 1 µs of JavaScript per line of a busy follow (JSON.parse, the
 * frame's zod check without JIT, the quick entry check, the re-stringify), this scan 0.06 µs
 * (both measured in Node on 364-line frames), on a machine whose two cores Docker, the agent
 * and the client also need.
 *
 * The scan accepts only text that JSON.parse, the log entry's schema and JSON.stringify would
 * give back byte for byte: the four keys in the schema's order, each once; `level` and
 * `stream` one of their words; strings in JSON.stringify's own spelling (raw characters but for
 * `"`, `\` and controls; only the escapes JSON.stringify writes; no lone surrogate). So a viewer
 * gets the same bytes either way, and anything else (another key, a key twice, `\/`, `\u00e9`,
 * `\u2028`, spaces between tokens) is left to the full parse (exact-log-frame.test.ts).
 */
export interface ExactLogFrame {
  id: string;
  /** The first entry's number. */
  seq: number;
  /** How many entries the frame holds. */
  count: number;
  /** The entries' text, as it goes between a frame's `[` and `]`. */
  entries: string;
}

/** A JSON string's content as JSON.stringify writes it. */
const STRING =
  // raw: not `"`, `\`, a control or a surrogate; a surrogate pair; the escapes JSON.stringify writes
  String.raw`(?:[^"\\\u0000-\u001f\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff]|\\["\\bfnrt]|\\u00(?:0[0-7bef]|1[0-9a-f]))*`;

/** One entry, matched where the previous one ended (sticky): no backtracking past it. */
const ENTRY = new RegExp(
  `\\{"timestamp":"${STRING}","message":"${STRING}","level":"(?:error|warn|info|debug)","stream":"(?:stdout|stderr)"\\}`,
  "y",
);

/** The frame's head, as ChunkBatcher writes it; at most 15 digits keeps `seq` a safe integer. */
const HEAD = /^\{"type":"chunks","id":"([0-9a-fA-F-]{36})","seq":(0|[1-9][0-9]{0,14}),"data":\[/;
const TAIL = "]}";

/**
 * The frame, when `text` is exactly a `chunks` frame of log entries as kai-agent writes one.
 * `wanted` is asked after the head, before the entries are scanned: a frame no viewer could
 * take as it stands (a per-line viewer, none) costs no scan.
 */
export function exactLogFrame(
  text: string,
  wanted: (id: string, seq: number) => boolean = () => true,
): ExactLogFrame | undefined {
  if (text.length > MAX_FRAME_BYTES || !text.endsWith(TAIL)) return undefined;
  const head = HEAD.exec(text);
  if (!head) return undefined;
  const [opening, id = "", seqText = ""] = head;
  if (!requestId.safeParse(id).success) return undefined;
  const seq = Number(seqText);
  if (!wanted(id, seq)) return undefined;
  const end = text.length - TAIL.length;
  let at = opening.length;
  let count = 0;
  for (;;) {
    ENTRY.lastIndex = at;
    if (!ENTRY.test(text)) return undefined;
    at = ENTRY.lastIndex;
    count += 1;
    if (at === end) break;
    if (text.charCodeAt(at) !== 0x2c /* , */) return undefined;
    at += 1;
  }
  return { id, seq, count, entries: text.slice(opening.length, end) };
}
