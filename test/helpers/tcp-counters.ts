// A namespace's TCP counters (/proc/net/snmp "Tcp:" and /proc/net/netstat "TcpExt:"), shared by
// IPv4 and IPv6: what a host's TCP did, over every connection it had.
import type { Lab } from '../lab/lab.js';

/** Counters by "Tcp.Name" / "TcpExt.Name". */
export type TcpCounters = Map<string, number>;

function parseTables(text: string, into: TcpCounters): void {
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const [section, ...names] = lines[i].split(' ');
    const [valueSection, ...values] = lines[i + 1].split(' ');
    if (section !== valueSection || !/^Tcp(Ext)?:$/.test(section)) continue;
    names.forEach((name, j) => into.set(`${section.slice(0, -1)}.${name}`, Number(values[j])));
    i++;
  }
}

export async function tcpCounters(lab: Lab, host: string): Promise<TcpCounters> {
  const counters: TcpCounters = new Map();
  for (const file of ['/proc/net/snmp', '/proc/net/netstat']) parseTables(await lab.run(host, 'cat', [file]), counters);
  return counters;
}

/** What changed between two readings. */
export function counterDelta(before: TcpCounters, after: TcpCounters, name: string): number {
  return (after.get(name) ?? 0) - (before.get(name) ?? 0);
}
