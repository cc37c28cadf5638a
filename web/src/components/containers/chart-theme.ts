import type uPlot from "uplot";

/** A CSS custom property of the page (styles.css), so the chart follows light and dark. */
const token = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/**
 * uPlot draws on a canvas with its own default colours (dark grey text on a transparent
 * background), which vanish in dark mode; the axes, ticks and grid take the page's colours.
 */
export function themedAxes(unit: string): uPlot.Axis[] {
  const fg = token("--muted");
  const grid = token("--line");
  const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return [axis, { ...axis, values: (_chart, ticks) => ticks.map((tick) => `${tick}${unit}`), size: 60 }];
}
