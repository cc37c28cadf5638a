import type { LogLine } from "./log-line";
import { toLogText } from "./log-line";

/**
 * Saves `lines` as `<name>.log` through a Blob and an object URL (a download is not a fetch
 * or a navigation the CSP governs, and nothing leaves the browser).
 */
export function downloadLog(name: string, lines: Iterable<LogLine>): void {
  const url = URL.createObjectURL(new Blob([toLogText(lines)], { type: "text/plain;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `${name.replace(/[^\w.-]+/g, "_") || "log"}.log`;
  document.body.append(link);
  link.click();
  link.remove();
  // The click has started the download; the URL is no longer needed once it has been read.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
