import Anser from "anser";

/** A run of a log line's text with one look: the text stays text, the look is CSS class names. */
export interface AnsiSpan {
  text: string;
  /** e.g. "ansi-red-fg ansi-bold"; empty for plain text. */
  classes: string;
}

const DECORATIONS = new Set(["bold", "dim", "italic", "underline", "strikethrough"]);

/**
 * A message with ANSI SGR escapes as styled runs. Anser's JSON output keeps the text as plain
 * strings that Preact renders as text nodes, so a `<script>` in a log line can never become
 * markup (stricter than escaping HTML and then colouring: no HTML is produced at all). The
 * 16 standard colours become classes (log-view.css); 256-colour and true-colour runs keep the
 * default colour rather than inline styles, which the CSP forbids.
 */
export function ansiSpans(message: string): AnsiSpan[] {
  if (!message.includes("\u001b")) return [{ text: message, classes: "" }];
  const entries = Anser.ansiToJson(message, { use_classes: true, remove_empty: true });
  return entries.map((entry) => ({ text: entry.content, classes: classesOf(entry) }));
}

function classesOf(entry: Anser.AnserJsonEntry): string {
  const classes: string[] = [];
  if (entry.fg && isNamedColour(entry.fg)) classes.push(`${entry.fg}-fg`);
  if (entry.bg && isNamedColour(entry.bg)) classes.push(`${entry.bg}-bg`);
  for (const decoration of entry.decorations ?? []) {
    if (DECORATIONS.has(decoration)) classes.push(`ansi-${decoration}`);
  }
  return classes.join(" ");
}

/** The 16 colours anser names by class (`ansi-red`, `ansi-bright-blue`), not palette or true colour. */
function isNamedColour(name: string): boolean {
  return /^ansi-(bright-)?(black|red|green|yellow|blue|magenta|cyan|white)$/.test(name);
}
