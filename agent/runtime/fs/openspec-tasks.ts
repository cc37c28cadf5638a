/**
 * Task progress of an OpenSpec change from its tasks.md: every Markdown checkbox item
 * (`- [ ]`, `- [x]`, `- [X]`, also `*` bullets and nested items) is a task; checked ones are done.
 */
export function countTasks(markdown: string): { total: number; done: number } {
  let total = 0;
  let done = 0;
  for (const match of markdown.matchAll(/^[ \t]*[-*][ \t]+\[([ xX])\]/gm)) {
    total += 1;
    if (match[1] !== " ") done += 1;
  }
  return { total, done };
}
