import { type Signal, useSignal } from "@preact/signals";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import type { LogLine } from "./log-line";
import { LogRow } from "./log-row";
import { isAtBottom, rowWindow, scrollTopFor } from "./row-window";

/** Each row's height in px; log-view.css gives .log-row the same height (rows never wrap). */
const ROW_HEIGHT = 20;

interface LogPaneProps {
  lines: readonly LogLine[];
  query: string;
  showTimestamps: boolean;
  /** The row of the search's current match, -1 for none. */
  currentRow: number;
  /** Bumped to scroll `currentRow` into view (a next/previous press), not on each new line. */
  focusRequest: number;
  /** True while the pane sticks to the newest line; false once the user scrolls up. */
  following: Signal<boolean>;
  /** Lines received (all streams) when the user paused: what "N new lines" counts from. */
  pausedAt: Signal<number>;
  received: number;
}

/**
 * The scrolling list of log lines. Only the rows on screen plus a margin are in the DOM
 * (fixed row height, a spacer for the rest), so 50,000 lines scroll like 100. While
 * `following`, each update scrolls to the bottom; scrolling up pauses, and the control at the
 * bottom counts what arrived meanwhile and jumps back.
 */
export function LogPane(props: LogPaneProps) {
  const { lines, following, pausedAt } = props;
  const box = useRef<HTMLDivElement>(null);
  const scrollTop = useSignal(0);
  const viewport = useSignal(400);
  const previousFirst = useRef<number | undefined>(undefined);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const observer = new ResizeObserver(() => {
      viewport.value = element.clientHeight;
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [viewport]);

  // Before paint: stick to the bottom while following; while paused, keep the same lines on
  // screen when the buffer dropped its oldest lines from the top.
  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    const first = lines[0]?.id;
    if (following.value) {
      element.scrollTop = element.scrollHeight;
    } else if (previousFirst.current !== undefined && first !== undefined && first > previousFirst.current) {
      element.scrollTop -= droppedRows(lines, previousFirst.current) * ROW_HEIGHT;
    }
    previousFirst.current = first;
    scrollTop.value = element.scrollTop;
  });

  useEffect(() => {
    const element = box.current;
    if (!element || props.focusRequest === 0 || props.currentRow < 0) return;
    element.scrollTop = scrollTopFor(props.currentRow, element.clientHeight, ROW_HEIGHT);
  }, [props.focusRequest]);

  const onScroll = () => {
    const element = box.current;
    if (!element) return;
    scrollTop.value = element.scrollTop;
    const atBottom = isAtBottom(element.scrollTop, element.clientHeight, element.scrollHeight, ROW_HEIGHT);
    if (atBottom === following.value) return;
    if (!atBottom) pausedAt.value = props.received;
    following.value = atBottom;
  };

  const jumpToBottom = () => {
    following.value = true;
    const element = box.current;
    if (element) element.scrollTop = element.scrollHeight;
  };

  const { start, end } = rowWindow(scrollTop.value, viewport.value, ROW_HEIGHT, lines.length);
  const newLines = props.received - pausedAt.value;
  // Sizes go through the style object (CSSOM), which the CSP allows; style="" attributes it would block.
  return (
    <div class="log-frame">
      <div class="log-pane" ref={box} onScroll={onScroll} role="log" aria-live="off">
        <div class="log-spacer" style={{ height: `${lines.length * ROW_HEIGHT}px` }}>
          <div class="log-rows" style={{ transform: `translateY(${start * ROW_HEIGHT}px)` }}>
            {lines.slice(start, end).map((line, offset) => (
              <LogRow
                key={line.id}
                line={line}
                query={props.query}
                showTimestamps={props.showTimestamps}
                current={start + offset === props.currentRow}
              />
            ))}
          </div>
        </div>
        {lines.length === 0 && (
          <p class="log-empty muted">No log lines yet: new ones appear here as they are written.</p>
        )}
      </div>
      {!following.value && (
        <button type="button" class="log-jump primary" onClick={jumpToBottom}>
          Paused — {newLines} new {newLines === 1 ? "line" : "lines"}, jump to bottom
        </button>
      )}
    </div>
  );
}

/** How many rows left the top of `lines` since its first line had id `previousFirst`. */
function droppedRows(lines: readonly LogLine[], previousFirst: number): number {
  // Ids only grow by one per line received: exact with both streams shown; with a stream
  // filter on, an upper bound (the view may move a few rows, never by a screenful).
  const first = lines[0]?.id ?? previousFirst;
  return Math.max(0, first - previousFirst);
}
