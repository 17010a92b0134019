// SVG chart of the snoop benchmark: median goodput against last-hop loss, one panel per sender
// congestion control, with and without snoop, random loss solid and bursts dashed. The goodput
// axis is logarithmic: without snoop a lossy download falls by orders of magnitude.
import { median } from './report.js';
import type { GoodputRow, Sample } from './snoop-report.js';

const PANEL_W = 280, PANEL_H = 220, LEFT = 50, TOP = 50, GAP = 40, BOTTOM = 80, MIN_WIDTH = 660;
const COLORS = { with: '#2b7bb9', without: '#c8763a' } as const;

const mbit = (xs: Sample[]): number => (xs.length ? median(xs.map((s) => s.mbit)) : NaN);

export function snoopSvg(rows: GoodputRow[]): string {
  const ccs = [...new Set(rows.map((r) => r.cc))];
  const losses = [...new Set(rows.map((r) => r.loss.percent))].sort((a, b) => a - b);
  const values = rows.flatMap((r) => [mbit(r.with), mbit(r.without)]).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values, 1)));
  const hi = Math.ceil(Math.log10(Math.max(...values, 10)));
  const x = (percent: number): number => (losses.length < 2 ? PANEL_W / 2 : (losses.indexOf(percent) / (losses.length - 1)) * PANEL_W);
  const y = (v: number): number => Math.round((PANEL_H - ((Math.log10(v) - lo) / (hi - lo)) * PANEL_H) * 10) / 10;
  const width = Math.max(MIN_WIDTH, LEFT + ccs.length * (PANEL_W + GAP) + 20);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${TOP + PANEL_H + BOTTOM}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Download goodput (Mbit/s, log scale) against last-hop loss, with and without snoop (median)</text>`,
  ];
  ccs.forEach((cc, i) => {
    const ox = LEFT + i * (PANEL_W + GAP);
    parts.push(`<g transform="translate(${ox},${TOP})">`);
    parts.push(`<text x="${PANEL_W / 2}" y="-8" text-anchor="middle" font-weight="bold">sender ${cc}</text>`);
    parts.push(`<rect x="0" y="0" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#888"/>`);
    for (let e = lo; e <= hi; e++) {
      parts.push(`<line x1="0" y1="${y(10 ** e)}" x2="${PANEL_W}" y2="${y(10 ** e)}" stroke="#ddd"/>`);
      if (i === 0) parts.push(`<text x="-6" y="${y(10 ** e) + 4}" text-anchor="end">${10 ** e}</text>`);
    }
    for (const p of losses) parts.push(`<text x="${x(p)}" y="${PANEL_H + 16}" text-anchor="middle">${p}%</text>`);
    for (const burst of [false, true]) {
      const series = rows.filter((r) => r.cc === cc && (r.loss.burst === burst || r.loss.percent === 0)).sort((a, b) => a.loss.percent - b.loss.percent);
      for (const side of ['with', 'without'] as const) {
        const pts = series.map((r) => [x(r.loss.percent), y(mbit(r[side]))]).filter(([, py]) => Number.isFinite(py));
        if (pts.length < 2) continue;
        const dash = burst ? ' stroke-dasharray="5 4"' : '';
        parts.push(`<polyline points="${pts.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}" fill="none" stroke="${COLORS[side]}" stroke-width="2"${dash}/>`);
        for (const [px, py] of pts) parts.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${COLORS[side]}"/>`);
      }
    }
    parts.push('</g>');
  });
  const ly = TOP + PANEL_H + 36;
  const legend: Array<[string, string, boolean]> = [
    ['with snoop, random loss', COLORS.with, false], ['without snoop, random loss', COLORS.without, false],
    ['with snoop, bursts', COLORS.with, true], ['without snoop, bursts', COLORS.without, true],
  ];
  legend.forEach(([label, color, dashed], i) => {
    const lx = LEFT + (i % 2) * 260;
    const row = ly + Math.floor(i / 2) * 20;
    parts.push(`<line x1="${lx}" y1="${row}" x2="${lx + 30}" y2="${row}" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
    parts.push(`<text x="${lx + 36}" y="${row + 4}">${label}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
