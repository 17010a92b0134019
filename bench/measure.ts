// One measurement each: run a real peer in the lab, return its figures.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../test/lab/lab.js';

export const TCPBENCH = fileURLToPath(new URL('../../bench/build/tcpbench', import.meta.url));
const CLK_TCK = 100;

export interface Bulk { bitsPerSecond: number; bytes: number; seconds: number; retransmits: number }

/** iperf3 from the client to the server; <reverse>: the server sends; <cc>: the sender's congestion control. */
export async function iperf(lab: Lab, port: number, o: { streams: number; reverse: boolean; seconds: number; cc?: string }): Promise<Bulk> {
  const args = ['-c', lab.server.v4, '-p', String(port), '-t', String(o.seconds), '-P', String(o.streams), '-J', '--connect-timeout', '5000'];
  if (o.reverse) args.push('-R');
  if (o.cc) args.push('-C', o.cc);
  const out = await lab.run('client', 'iperf3', args, { timeoutMs: (o.seconds + 30) * 1000 });
  type Sums = { sum_received: { bits_per_second: number; bytes: number; seconds: number }; sum_sent: { retransmits?: number } };
  const { sum_received: r, sum_sent: sent } = (JSON.parse(out) as { end: Sums }).end;
  return { bitsPerSecond: r.bits_per_second, bytes: r.bytes, seconds: r.seconds, retransmits: sent.retransmits ?? 0 };
}

export interface ConnRate { connections: number; failures: number; rate: number; p50Us: number; p99Us: number }

export async function connRate(lab: Lab, port: number, concurrency: number, seconds: number): Promise<ConnRate> {
  const out = await lab.run('client', 'sh', ['-c', `ulimit -n 20000 && exec ${TCPBENCH} connrate ${lab.server.v4} ${port} ${concurrency} ${seconds}`], { timeoutMs: (seconds + 30) * 1000 });
  return JSON.parse(out) as ConnRate;
}

export interface PingPong { count: number; p50Us: number; p99Us: number }

export async function pingPong(lab: Lab, port: number, count: number): Promise<PingPong> {
  return JSON.parse(await lab.run('client', TCPBENCH, ['pingpong', lab.server.v4, String(port), String(count)])) as PingPong;
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;   // utime, stime
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export async function establishedCount(lab: Lab, host: string): Promise<number> {
  const out = await lab.run(host, 'ss', ['-Htn', 'state', 'established']);
  return out.split('\n').filter((l) => l.trim()).length;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
