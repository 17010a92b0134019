// The reference traceroute: `traceroute -T` (TCP SYN probes, one per TTL) run inside a lab
// namespace, its hop lines parsed.
import { spawnSync } from 'node:child_process';
import type { Host, Lab } from '../lab/lab.js';

export interface TracerouteHop {
  ttl: number;
  /** the responder, null for a `*` (nothing answered within the wait) */
  address: string | null;
  rttMs: number | null;
}

export interface TracerouteOptions {
  /** the TCP destination port of the probes */
  port: number;
  firstTtl?: number;
  maxTtl?: number;
  waitSeconds?: number;
}

/** Why traceroute tests cannot run here, or false when they can. */
export function tracerouteMissing(): string | false {
  const r = spawnSync('traceroute', ['--version'], { stdio: 'ignore' });
  return r.error ? 'traceroute is not installed (apt-get install traceroute; test/ensure-deps.sh does it)' : false;
}

/** Parses `traceroute -n -q 1` output: one line per TTL, `N  ADDRESS  RTT ms` or `N  *`. */
export function parseTraceroute(out: string): TracerouteHop[] {
  const hops: TracerouteHop[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(?:\*|(\S+)\s+([\d.]+) ms)/.exec(line);
    if (m) hops.push({ ttl: Number(m[1]), address: m[2] ?? null, rttMs: m[3] === undefined ? null : Number(m[3]) });
  }
  return hops;
}

/** `traceroute -T -n -q 1` from <host> to <dest>; throws when traceroute fails. */
export async function traceroute(lab: Lab, host: Host, dest: string, o: TracerouteOptions): Promise<TracerouteHop[]> {
  const args = ['-T', '-n', '-q', '1', '-w', String(o.waitSeconds ?? 2), '-p', String(o.port)];
  if (dest.includes(':')) args.unshift('-6');
  if (o.firstTtl !== undefined) args.push('-f', String(o.firstTtl));
  if (o.maxTtl !== undefined) args.push('-m', String(o.maxTtl));
  return parseTraceroute(await lab.run(host, 'traceroute', [...args, dest], { timeoutMs: 120_000 }));
}
