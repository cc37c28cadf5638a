import { useComputed, useSignal } from "@preact/signals";
import { downloadLog } from "./download-log";
import { LogPane } from "./log-pane";
import type { LogStore } from "./log-store";
import { LogToolbar } from "./log-toolbar";
import { matchRows, stepMatch } from "./search";
import "./log-view.css";

interface LogViewProps {
  store: LogStore;
  /** The download's file name, without .log. */
  name: string;
}

/**
 * A log viewer over a LogStore: live follow that pauses when scrolled up, search, stdout /
 * stderr filters, timestamps, download of what is loaded. Reusable for any stream of log lines.
 */
export function LogView({ store, name }: LogViewProps) {
  const query = useSignal("");
  const showStdout = useSignal(true);
  const showStderr = useSignal(true);
  const showTimestamps = useSignal(false);
  const following = useSignal(true);
  const pausedAt = useSignal(0);
  const current = useSignal(-1);
  const focusRequest = useSignal(0);

  const lines = useComputed(() => {
    store.version.value;
    const all = store.buffer.toArray();
    if (showStdout.value && showStderr.value) return all;
    return all.filter((line) => (line.stream === "stdout" ? showStdout.value : showStderr.value));
  });
  const matches = useComputed(() => matchRows(lines.value, query.value));
  const currentIndex = current.value < matches.value.length ? current.value : -1;

  const onStep = (step: 1 | -1) => {
    current.value = stepMatch(currentIndex, matches.value.length, step);
    focusRequest.value += 1;
  };
  const dropped = store.buffer.dropped;
  return (
    <section class="log-view" aria-label="Log">
      <LogToolbar
        query={query.value}
        onQuery={(value) => {
          query.value = value;
          current.value = -1;
        }}
        matchCount={matches.value.length}
        current={currentIndex}
        onStep={onStep}
        showStdout={showStdout}
        showStderr={showStderr}
        showTimestamps={showTimestamps}
        onDownload={() => downloadLog(name, store.buffer.toArray())}
      />
      <LogPane
        lines={lines.value}
        query={query.value}
        showTimestamps={showTimestamps.value}
        currentRow={currentIndex < 0 ? -1 : (matches.value[currentIndex] ?? -1)}
        focusRequest={focusRequest.value}
        following={following}
        pausedAt={pausedAt}
        received={store.received}
      />
      <p class="muted log-summary">
        {lines.value.length.toLocaleString()} lines shown
        {dropped > 0 &&
          ` · the ${store.buffer.capacity.toLocaleString()} newest are kept (${dropped.toLocaleString()} older dropped)`}
      </p>
    </section>
  );
}
