import { ansiSpans } from "./ansi-spans";
import type { LogLine } from "./log-line";
import { markMatches } from "./search";

interface LogRowProps {
  line: LogLine;
  query: string;
  showTimestamps: boolean;
  /** The search's current match. */
  current: boolean;
}

/** One log line: time, stream and level as classes, ANSI colours as classes, search matches marked. */
export function LogRow({ line, query, showTimestamps, current }: LogRowProps) {
  const classes = `log-row log-${line.stream} log-level-${line.level}${current ? " log-current" : ""}`;
  return (
    <div class={classes} data-id={line.id}>
      {showTimestamps && (
        <time class="log-time" dateTime={line.timestamp} title={line.timestamp}>
          {line.timestamp.slice(11, 23)}
        </time>
      )}
      <span class="log-message">
        {ansiSpans(line.message).map((span, index) => (
          <span key={index} class={span.classes || undefined}>
            {markMatches(span.text, query).map((piece, at) =>
              piece.match ? <mark key={at}>{piece.text}</mark> : piece.text,
            )}
          </span>
        ))}
      </span>
    </div>
  );
}
