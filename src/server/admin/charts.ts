import { escapeHtml } from "../../render/escape.js";

/** One series of a chart: its name (in the legend and the table) and a value per label. */
export interface Series {
  name: string;
  values: number[];
}

/** A chart as the console shows it: the SVG and the same numbers as a table, for screen readers and exact values. */
export interface Chart {
  svgHtml: string;
  table: { caption: string; head: string[]; rows: string[][] };
}

const WIDTH = 640;
const HEIGHT = 200;
const PAD = { top: 12, right: 8, bottom: 28, left: 40 };

/** A round step for an axis that reaches `max`: 1, 2, 5 times a power of ten. */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * power >= max) return m * power;
  return 10 * power;
}

/**
 * A stacked bar chart drawn on the server: no script, colours from the page's CSS
 * (classes s0, s1, ... so that light and dark schemes each pick theirs), a <title>
 * and <desc> for assistive technology, and the numbers again as a table.
 */
export function stackedBars(title: string, description: string, labels: string[], series: Series[]): Chart {
  const totals = labels.map((_, i) => series.reduce((n, s) => n + (s.values[i] ?? 0), 0));
  const top = niceMax(Math.max(0, ...totals));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, labels.length);
  const barW = Math.max(2, Math.min(40, slot * 0.7));
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const parts: string[] = [];
  for (const v of [0, top / 2, top]) {
    parts.push(`<line class="grid" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/>`);
    parts.push(`<text class="axis" x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Number.isInteger(v) ? v : v.toFixed(1)}</text>`);
  }
  labels.forEach((label, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    let base = 0;
    series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      if (v <= 0) return;
      parts.push(`<rect class="s${k}" x="${x.toFixed(1)}" y="${y(base + v).toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(base) - y(base + v)).toFixed(1)}"><title>${escapeHtml(`${label}: ${s.name} ${v}`)}</title></rect>`);
      base += v;
    });
    // Every label when few, else about eight of them.
    if (labels.length <= 12 || i % Math.ceil(labels.length / 8) === 0) {
      parts.push(`<text class="axis" x="${(x + barW / 2).toFixed(1)}" y="${HEIGHT - 10}" text-anchor="middle">${escapeHtml(label)}</text>`);
    }
  });
  const legend = series.map((s, k) => `<span class="key"><span class="swatch s${k}"></span>${escapeHtml(s.name)}</span>`).join(" ");
  const id = `chart-${Buffer.from(title).toString("hex").slice(0, 16)}`;
  const svgHtml =
    `<figure class="chart"><svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="${id}-t ${id}-d" preserveAspectRatio="xMidYMid meet">` +
    `<title id="${id}-t">${escapeHtml(title)}</title><desc id="${id}-d">${escapeHtml(description)}</desc>${parts.join("")}</svg>` +
    `<figcaption>${legend}</figcaption></figure>`;
  return {
    svgHtml,
    table: { caption: title, head: ["", ...series.map((s) => s.name)], rows: labels.map((label, i) => [label, ...series.map((s) => String(s.values[i] ?? 0))]) },
  };
}
