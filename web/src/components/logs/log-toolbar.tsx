import type { Signal } from "@preact/signals";

interface LogToolbarProps {
  query: string;
  /** The search text changed (the view starts stepping from the first match again). */
  onQuery: (query: string) => void;
  matchCount: number;
  /** Position of the current match, -1 for none. */
  current: number;
  onStep: (step: 1 | -1) => void;
  showStdout: Signal<boolean>;
  showStderr: Signal<boolean>;
  showTimestamps: Signal<boolean>;
  onDownload: () => void;
}

/** Search (count, previous/next), stream filters, the timestamp toggle and the download. */
export function LogToolbar(props: LogToolbarProps) {
  const { query, matchCount, current } = props;
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    props.onStep(event.shiftKey ? -1 : 1);
  };
  return (
    <div class="log-toolbar">
      <div class="log-search">
        <input
          type="search"
          aria-label="Search the log"
          placeholder="Search"
          value={query}
          onInput={(event) => props.onQuery(event.currentTarget.value)}
          onKeyDown={onKeyDown}
        />
        <span class="log-count muted" aria-live="polite">
          {countText(query, matchCount, current)}
        </span>
        <button type="button" aria-label="Previous match" disabled={!matchCount} onClick={() => props.onStep(-1)}>
          ↑
        </button>
        <button type="button" aria-label="Next match" disabled={!matchCount} onClick={() => props.onStep(1)}>
          ↓
        </button>
      </div>
      <div class="row">
        <Toggle label="stdout" value={props.showStdout} />
        <Toggle label="stderr" value={props.showStderr} />
        <Toggle label="Timestamps" value={props.showTimestamps} />
        <button type="button" onClick={props.onDownload}>
          Download
        </button>
      </div>
    </div>
  );
}

function Toggle({ label, value }: { label: string; value: Signal<boolean> }) {
  return (
    <label class="log-toggle">
      <input
        type="checkbox"
        checked={value.value}
        onChange={(event) => {
          value.value = event.currentTarget.checked;
        }}
      />
      {label}
    </label>
  );
}

/** "No match", "3 matches" before stepping through them, then "2 / 3". */
function countText(query: string, count: number, current: number): string {
  if (!query) return "";
  if (count === 0) return "No match";
  return current < 0 ? `${count} ${count === 1 ? "match" : "matches"}` : `${current + 1} / ${count}`;
}
