import type { Row } from "./verdict";

/**
 * The results as an SVG bar chart, drawn by hand (no network, no chart library): one bar per
 * numeric target condition, measured against its limit on a log scale, with the target as a
 * tick. Ratios to a baseline are plotted as they are; absolute limits (80 MiB, 10,000
 * frames/s, 12 s) as measured / limit, so their target tick sits at 1×.
 */

const WIDTH = 900;
/** Each row: the figure's name on one line, its bar under it. */
const ROW = 42;
const BAR_HEIGHT = 16;
const TOP = 70;
const PLOT_LEFT = 40;
const PLOT_RIGHT = WIDTH - 150;

export function chartSvg(rows: Row[], title: string): string {
  const bars = rows.flatMap((row) => row.bars.map((bar) => ({ ...bar, name: `${row.figure} ${bar.label}` })));
  const values = bars.flatMap((bar) => [bar.measured, bar.limit]).filter((value) => value > 0);
  const lo = Math.floor(Math.log10(Math.min(0.1, ...values)));
  const hi = Math.ceil(Math.log10(Math.max(10, ...values)));
  const x = (value: number) =>
    PLOT_LEFT + ((Math.log10(Math.max(value, 10 ** lo)) - lo) / (hi - lo)) * (PLOT_RIGHT - PLOT_LEFT);
  const height = TOP + bars.length * ROW + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="16" y="44" fill="#555">Bar: measured ÷ baseline, or measured ÷ limit for an absolute target (log scale). Black tick: the target. Green: met; red: missed.</text>`,
  ];
  for (let power = lo; power <= hi; power++) {
    const at = x(10 ** power);
    out.push(`<line x1="${at}" y1="${TOP - 6}" x2="${at}" y2="${height - 34}" stroke="#ddd"/>`);
    out.push(
      `<text x="${at}" y="${height - 18}" text-anchor="middle" fill="#555">${escapeXml(tickLabel(power))}</text>`,
    );
  }
  bars.forEach((bar, index) => {
    const label = TOP + index * ROW;
    const y = label + 6;
    const end = x(bar.measured);
    const start = x(10 ** lo);
    out.push(`<text x="16" y="${label}" fill="#222">${escapeXml(shorten(bar.name, 130))}</text>`);
    out.push(
      `<rect x="${start}" y="${y}" width="${Math.max(1, end - start)}" height="${BAR_HEIGHT}" fill="${bar.met ? "#3a9d5d" : "#d64541"}"/>`,
    );
    const tick = x(bar.limit);
    out.push(
      `<line x1="${tick}" y1="${y - 3}" x2="${tick}" y2="${y + BAR_HEIGHT + 3}" stroke="#000" stroke-width="2"/>`,
    );
    out.push(
      `<text x="${Math.max(end, tick) + 6}" y="${y + 12}" fill="#333">${escapeXml(`${ratioText(bar.measured)} (${bar.atMost ? "≤" : "≥"} ${ratioText(bar.limit)})`)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

function tickLabel(power: number): string {
  return `${power >= 0 ? 10 ** power : (10 ** power).toFixed(-power)}×`;
}

function ratioText(value: number): string {
  return `${value >= 0.1 ? value.toFixed(2) : value.toPrecision(2)}×`;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}
