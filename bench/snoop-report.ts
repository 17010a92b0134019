// The snoop benchmark's figures and their Markdown table.
import { median } from './report.js';

export interface LossModel {
  /** as the table shows it: "none", "2% random", "2% bursts" */
  name: string;
  percent: number;
  burst: boolean;
  /** tcp-intercept emulate flags toward the mobile */
  args: string[];
}

export interface Sample {
  mbit: number;
  /** segments the sender retransmitted (iperf3) */
  retransmits: number;
  /** snoop's own counters over the run; 0 without snoop */
  localRetransmits: number;
  dupacksSuppressed: number;
}

export interface GoodputRow {
  loss: LossModel;
  cc: string;
  without: Sample[];
  with: Sample[];
  /** runs iperf3 did not complete */
  failures: number;
}

export interface CleanRow {
  plainGbit: number[];
  snoopGbit: number[];
}

export const CLEAN_TARGET_GBIT = 1;

const fmt = (x: number): string =>
  !Number.isFinite(x) ? '-' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);

const count = (x: number): string => (!Number.isFinite(x) ? '-' : Number.isInteger(x) ? String(x) : x.toFixed(1));

function cell(xs: number[]): string {
  if (!xs.length) return '-';
  return xs.length === 1 ? fmt(xs[0]) : `${fmt(median(xs))} [${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}]`;
}

const med = (samples: Sample[], f: (s: Sample) => number): number => (samples.length ? median(samples.map(f)) : NaN);

function goodputRatio(row: GoodputRow): number {
  return med(row.with, (s) => s.mbit) / med(row.without, (s) => s.mbit);
}

export function snoopMarkdown(header: string[], rows: GoodputRow[], clean: CleanRow): string {
  const lines = [
    ...header,
    '',
    'Medians over the rounds, range in brackets. "ratio": median with snoop / median without. Sender retransmits: segments the',
    'fixed host sent again (median per run), local retransmits and dupacks suppressed: snoop\'s counters (median per run).',
    '',
    '| last-hop loss | sender cc | without snoop (Mbit/s) | with snoop (Mbit/s) | ratio | sender retransmits without / with | snoop local retransmits | dupacks suppressed | failed runs |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push('| ' + [
      r.loss.name,
      r.cc,
      cell(r.without.map((s) => s.mbit)),
      cell(r.with.map((s) => s.mbit)),
      fmt(goodputRatio(r)),
      `${count(med(r.without, (s) => s.retransmits))} / ${count(med(r.with, (s) => s.retransmits))}`,
      count(med(r.with, (s) => s.localRetransmits)),
      count(med(r.with, (s) => s.dupacksSuppressed)),
      String(r.failures),
    ].join(' | ') + ' |');
  }
  const plain = clean.plainGbit.length ? median(clean.plainGbit) : NaN;
  const snoop = clean.snoopGbit.length ? median(clean.snoopGbit) : NaN;
  const verdict = snoop >= CLEAN_TARGET_GBIT ? 'met' : '**not met**';
  lines.push(
    '',
    'Forwarding cost on a clean chain (the same namespaces, no emulator anywhere, sender cubic):',
    '',
    '| clean chain | plain forwarding (Gbit/s) | with snoop (Gbit/s) | ratio | target |',
    '|---|---|---|---|---|',
    `| no emulator | ${cell(clean.plainGbit)} | ${cell(clean.snoopGbit)} | ${fmt(snoop / plain)} | >= ${CLEAN_TARGET_GBIT} Gbit/s with snoop: ${verdict} |`,
  );
  return lines.join('\n') + '\n';
}
