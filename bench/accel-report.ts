// The accel benchmark's figures and their Markdown table: goodput per path (RTT, loss) and way
// through the router, and each split's ratio to end-to-end cubic.
import { END_TO_END } from '../test/lab/accel-path.js';
import { median } from './report.js';

export interface Cell {
  rttMs: number;
  lossPercent: number;
  /** Mbit/s per variant name, one sample per completed run */
  mbit: Map<string, number[]>;
  /** runs iperf3 did not complete */
  failures: number;
}


const fmt = (x: number): string =>
  !Number.isFinite(x) ? '-' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);

export const medianOf = (xs: number[] | undefined): number => (xs?.length ? median(xs) : NaN);

function goodput(xs: number[] | undefined): string {
  if (!xs?.length) return '-';
  return xs.length === 1 ? fmt(xs[0]) : `${fmt(median(xs))} [${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}]`;
}

export function ratio(cell: Cell, variant: string): number {
  return medianOf(cell.mbit.get(variant)) / medianOf(cell.mbit.get(END_TO_END.name));
}

/** Cells where a split variant's median is below end to end's, worded for the results. */
function losses(cells: Cell[], splits: string[]): string[] {
  const out: string[] = [];
  for (const c of cells) {
    const behind = splits.filter((v) => ratio(c, v) < 1).map((v) => `${v} ${fmt(ratio(c, v))}x`);
    if (behind.length) out.push(`- RTT ${c.rttMs} ms, loss ${c.lossPercent}%: ${behind.join(', ')}`);
  }
  return out;
}

export function accelMarkdown(header: string[], variants: string[], cells: Cell[]): string {
  const splits = variants.filter((v) => v !== END_TO_END.name);
  const lines = [
    ...header,
    '',
    `Goodput in Mbit/s at the server (iperf3), median over the rounds with the range in brackets; "x": median / median of ${END_TO_END.name}.`,
    '',
    `| loss | RTT | ${variants.join(' | ')} | failed runs |`,
    `|---|---|${variants.map(() => '---|').join('')}---|`,
  ];
  for (const c of cells) {
    const vs = variants.map((v) => (v === END_TO_END.name ? goodput(c.mbit.get(v)) : `${goodput(c.mbit.get(v))} (${fmt(ratio(c, v))}x)`));
    lines.push(`| ${c.lossPercent}% | ${c.rttMs} ms | ${vs.join(' | ')} | ${c.failures} |`);
  }
  const behind = losses(cells, splits);
  lines.push('', '## Where the split loses', '');
  if (behind.length) {
    lines.push('Paths where a split variant moved less than end-to-end cubic (median ratio below 1):', '', ...behind);
  } else {
    lines.push('No path in this run where a split variant moved less than end-to-end cubic.');
  }
  return lines.join('\n') + '\n';
}
