// Bar charts as inline SVG built element by element (no library, nothing inline for the CSP to
// refuse): stacked bars per hour with a light grid, hour labels and a tooltip per segment.
import { h, svg } from './dom.js';
import { count, hourLabel } from './format.js';

const PAD = { top: 10, right: 8, bottom: 22, left: 36 };

/** A round upper bound for the axis: 1, 2, 5, 10, 20, 50 … */
function niceMax(max) {
  if (max <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (max <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

/**
 * rows: [{ start, values: { KEY: n } }]; series: [{ key, label }] drawn bottom-up, each with the
 * CSS class KEY. width and height: of the drawing in SVG units, about the pixels it will take
 * (the SVG scales to its box, and so does its text).
 */
export function stackedBars(rows, series, { width = 720, height = 220, label = 'Chart' } = {}) {
  const WIDTH = width;
  const totals = rows.map((row) => series.reduce((sum, s) => sum + (row.values[s.key] ?? 0), 0));
  const top = niceMax(Math.max(0, ...totals));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, rows.length);
  const barW = Math.max(2, slot * 0.72);
  // Hour labels no closer than 40 units apart, counted back from the last bar: the hour running
  // now is the one an operator looks for, so it always has its label.
  const every = Math.max(1, Math.ceil(40 / slot));
  const labelled = (i) => (rows.length - 1 - i) % every === 0;
  const y = (v) => PAD.top + plotH - (v / top) * plotH;

  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = Math.round(top * f);
    return [
      svg('line', { class: f === 0 ? 'axis' : 'grid', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v) }),
      svg('text', { x: PAD.left - 6, y: y(v) + 3, 'text-anchor': 'end' }, count(v)),
    ];
  });

  const bars = rows.map((row, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    let base = 0;
    const segments = series.map((s) => {
      const v = row.values[s.key] ?? 0;
      if (v === 0) return null;
      const rect = svg('rect', { class: s.key, x, width: barW, y: y(base + v), height: Math.max(1, y(base) - y(base + v)), rx: 1.5 });
      rect.append(svg('title', {}, `${hourLabel(row.start)} · ${s.label}: ${count(v)}`));
      base += v;
      return rect;
    });
    const tick = labelled(i) ? svg('text', { x: x + barW / 2, y: height - 6, 'text-anchor': 'middle' }, hourLabel(row.start)) : null;
    return [segments, tick];
  });

  return svg('svg', { class: 'chart', viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': label }, grid, bars);
}

export function legend(series) {
  return h(
    'div',
    { class: 'legend' },
    series.map((s) => h('span', {}, h('span', { class: ['swatch', s.key] }), s.label)),
  );
}
