// Results as JSON, a Markdown table and an SVG chart of the ratios to plain forwarding.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { SubjectName } from './subjects.js';

export interface Row {
  metric: string;
  unit: string;
  values: Partial<Record<SubjectName, number[]>>;
  /** how the subject compares with plain forwarding: 'ratio' (x / plain) or 'added' (x - plain) */
  compare: 'ratio' | 'added' | null;
  target: string;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const fmt = (x: number): string =>
  !Number.isFinite(x) ? '-' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);

function cell(xs: number[] | undefined): string {
  if (!xs?.length) return '-';
  return xs.length === 1 ? fmt(xs[0]) : `${fmt(median(xs))} (${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))})`;
}

function comparison(row: Row, subject: SubjectName): string {
  const x = row.values[subject];
  const base = row.values.plain;
  if (!row.compare || !x?.length || !base?.length) return '-';
  return row.compare === 'ratio' ? fmt(median(x) / median(base)) : `+${fmt(median(x) - median(base))}`;
}

export function markdown(rows: Row[], header: string[]): string {
  const lines = [
    ...header,
    '',
    'Medians, with the range over rounds in brackets. "vs plain": ratio to plain forwarding, or what the proxy adds.',
    '',
    '| metric | unit | plain | tcp-intercept | vs plain | haproxy | vs plain | target (tcp-intercept) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.metric} | ${r.unit} | ${cell(r.values.plain)} | ${cell(r.values['tcp-intercept'])} | ${comparison(r, 'tcp-intercept')} | ${cell(r.values.haproxy)} | ${comparison(r, 'haproxy')} | ${r.target} |`);
  }
  return lines.join('\n') + '\n';
}

/** Horizontal bars: each ratio row, tcp-intercept and haproxy, against plain forwarding = 1. */
export function svg(rows: Row[]): string {
  const bars = rows.filter((r) => r.compare === 'ratio' && r.values.plain?.length);
  const rowH = 44, left = 230, width = 420, top = 40;
  const scale = (v: number): number => Math.max(0, Math.min(v, 1.5)) / 1.5 * width;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 80}" height="${top + bars.length * rowH + 40}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Ratio to plain kernel forwarding (median; 1.0 = as fast)</text>`,
    `<line x1="${left + scale(1)}" y1="${top - 8}" x2="${left + scale(1)}" y2="${top + bars.length * rowH}" stroke="#888" stroke-dasharray="4 3"/>`,
    `<text x="${left + scale(1) - 8}" y="${top - 12}">1.0</text>`,
  ];
  bars.forEach((r, i) => {
    const y = top + i * rowH;
    parts.push(`<text x="10" y="${y + 18}">${r.metric.replace(/ \(.*\)$/, "")}</text>`);
    (['tcp-intercept', 'haproxy'] as const).forEach((s, j) => {
      const x = r.values[s];
      if (!x?.length) return;
      const ratio = median(x) / median(r.values.plain ?? [NaN]);
      const color = s === 'tcp-intercept' ? '#2b7bb9' : '#c8763a';
      parts.push(`<rect x="${left}" y="${y + 4 + j * 18}" width="${scale(ratio).toFixed(1)}" height="14" fill="${color}"/>`);
      parts.push(`<text x="${left + scale(ratio) + 4}" y="${y + 15 + j * 18}">${ratio.toFixed(2)} ${s}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export function writeResults(dir: string, rows: Row[], header: string[], meta: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(`${dir}/results-${stamp}.json`, JSON.stringify({ ...meta, rows }, null, 2) + '\n');
  writeFileSync(`${dir}/latest.md`, markdown(rows, header));
  writeFileSync(`${dir}/latest.svg`, svg(rows));
}
