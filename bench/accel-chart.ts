// SVG chart of the accel benchmark: median goodput against RTT, one panel per loss rate, one line
// per way through the router (end to end, and each split). The goodput axis is logarithmic: end to
// end over a long lossy path falls by orders of magnitude.
import { medianOf, type Cell } from './accel-report.js';

const PANEL_W = 230, PANEL_H = 220, LEFT = 50, TOP = 50, GAP = 30, BOTTOM = 40, LEGEND_ROW = 20;
const COLORS = ['#444444', '#c8763a', '#2b7bb9', '#d9a441', '#5aa05a'];

export function accelSvg(variants: string[], cells: Cell[]): string {
  const lossRates = [...new Set(cells.map((c) => c.lossPercent))].sort((a, b) => a - b);
  const rtts = [...new Set(cells.map((c) => c.rttMs))].sort((a, b) => a - b);
  const values = cells.flatMap((c) => variants.map((v) => medianOf(c.mbit.get(v)))).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values, 1)));
  const hi = Math.ceil(Math.log10(Math.max(...values, 10)));
  const x = (rtt: number): number => (rtts.length < 2 ? PANEL_W / 2 : (rtts.indexOf(rtt) / (rtts.length - 1)) * PANEL_W);
  const y = (v: number): number => PANEL_H - ((Math.log10(v) - lo) / (hi - lo)) * PANEL_H;
  const width = LEFT + lossRates.length * (PANEL_W + GAP) + 20;
  const legendTop = TOP + PANEL_H + BOTTOM;
  const height = legendTop + Math.ceil(variants.length / 2) * LEGEND_ROW + 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Upload goodput (Mbit/s, log scale) against RTT, 100 Mbit/s link, client cubic (median)</text>`,
  ];
  lossRates.forEach((loss, i) => {
    parts.push(`<g transform="translate(${LEFT + i * (PANEL_W + GAP)},${TOP})">`);
    parts.push(`<text x="${PANEL_W / 2}" y="-8" text-anchor="middle" font-weight="bold">loss ${loss}% toward the server</text>`);
    parts.push(`<rect x="0" y="0" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#888"/>`);
    for (let e = lo; e <= hi; e++) {
      parts.push(`<line x1="0" y1="${y(10 ** e).toFixed(1)}" x2="${PANEL_W}" y2="${y(10 ** e).toFixed(1)}" stroke="#ddd"/>`);
      if (i === 0) parts.push(`<text x="-6" y="${(y(10 ** e) + 4).toFixed(1)}" text-anchor="end">${10 ** e}</text>`);
    }
    for (const rtt of rtts) parts.push(`<text x="${x(rtt).toFixed(1)}" y="${PANEL_H + 16}" text-anchor="middle">${rtt} ms</text>`);
    variants.forEach((v, k) => {
      const pts = cells
        .filter((c) => c.lossPercent === loss)
        .sort((a, b) => a.rttMs - b.rttMs)
        .map((c) => [x(c.rttMs), y(medianOf(c.mbit.get(v)))])
        .filter(([, py]) => Number.isFinite(py));
      const color = COLORS[k % COLORS.length];
      if (pts.length >= 2) parts.push(`<polyline points="${pts.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
      for (const [px, py] of pts) parts.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${color}"/>`);
    });
    parts.push('</g>');
  });
  variants.forEach((v, k) => {
    const lx = LEFT + (k % 2) * 360;
    const ly = legendTop + Math.floor(k / 2) * LEGEND_ROW;
    parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 30}" y2="${ly}" stroke="${COLORS[k % COLORS.length]}" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 36}" y="${ly + 4}">${v}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
