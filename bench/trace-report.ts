// The trace benchmark's Markdown: trace durations, and the flow's goodput with and without traces.
import { median } from './report.js';
import type { TraceDone } from './trace-run.js';

export interface FlowSample { mbit: number; retransmits: number; traces: number }

export interface TraceResults { runs: TraceDone[]; failures: string[]; without: FlowSample[]; with: FlowSample[] }

const fmt = (x: number): string => (!Number.isFinite(x) ? '-' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));
const range = (xs: number[]): string => (xs.length === 0 ? '-' : xs.length === 1 ? fmt(xs[0]) : `${fmt(median(xs))} [${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}]`);

export function traceMarkdown(header: string[], r: TraceResults): string {
  const reasons = new Map<string, number>();
  for (const d of r.runs) reasons.set(d.reason, (reasons.get(d.reason) ?? 0) + 1);
  const goodput = (s: FlowSample[]): number => (s.length ? median(s.map((x) => x.mbit)) : NaN);
  return [
    ...header,
    '',
    '## Trace runs',
    '',
    'Medians, range in brackets.',
    '',
    '"elapsed": the trace as it reports it (first probe to the end); "command": `tcp-intercept trace` from start to exit.',
    '',
    '| runs | reached | outcomes | hops | probes | elapsed ms | command ms |',
    '|---|---|---|---|---|---|---|',
    `| ${r.runs.length} | ${r.runs.filter((d) => d.reached).length} | ${[...reasons].map(([k, n]) => `${k} ${n}`).join(', ') || '-'} | ` +
      `${range(r.runs.map((d) => d.hops))} | ${range(r.runs.map((d) => d.probes))} | ${range(r.runs.map((d) => d.elapsedMs))} | ${range(r.runs.map((d) => d.wallMs))} |`,
    ...(r.failures.length ? ['', `Failed runs: ${r.failures.length}`, ...r.failures.map((f) => `- ${f.split('\n')[0]}`)] : []),
    '',
    '## The flow\'s goodput',
    '',
    '| | runs | Mbit/s | sender retransmits | traces during the run |',
    '|---|---|---|---|---|',
    `| without traces | ${r.without.length} | ${range(r.without.map((s) => s.mbit))} | ${range(r.without.map((s) => s.retransmits))} | - |`,
    `| traced back to back | ${r.with.length} | ${range(r.with.map((s) => s.mbit))} | ${range(r.with.map((s) => s.retransmits))} | ${range(r.with.map((s) => s.traces))} |`,
    '',
    `Ratio of the medians, with / without: ${fmt(goodput(r.with) / goodput(r.without))}.`,
    '',
  ].join('\n');
}
