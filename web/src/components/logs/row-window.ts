/** Which rows of a fixed-height list to put in the DOM: [start, end) around what is on screen. */
export interface RowWindow {
  start: number;
  end: number;
}

/**
 * The rows visible in a scroll box at `scrollTop` with `overscan` extra rows either side, so a
 * fast scroll shows rows before the next render; only these rows exist in the DOM.
 */
export function rowWindow(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan = 30,
): RowWindow {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visible = Math.ceil(viewportHeight / rowHeight) + 1;
  const start = Math.max(0, Math.min(count, first) - overscan);
  const end = Math.min(count, first + visible + overscan);
  return { start, end: Math.max(start, end) };
}

/** Whether a scroll box is at (within `slack` px of) its bottom: following resumes there. */
export function isAtBottom(scrollTop: number, viewportHeight: number, scrollHeight: number, slack: number): boolean {
  return scrollHeight - scrollTop - viewportHeight <= slack;
}

/** The scrollTop that puts row `index` in the middle of the viewport (a search match). */
export function scrollTopFor(index: number, viewportHeight: number, rowHeight: number): number {
  return Math.max(0, index * rowHeight - viewportHeight / 2 + rowHeight / 2);
}
