// The traceroute-like table of a trace, from its records.
import type { DoneRecord, HopRecord } from './trace-records.js';

const REASONS: Record<DoneRecord['reason'], string> = {
  reached: 'reached', unreachable: 'unreachable', 'max-ttl': 'not reached by the highest TTL', silent: 'not reached: the path went silent',
  'flow-ended': 'stopped: the flow ended', retransmitting: 'stopped: the flow retransmits', 'no-flow': 'no live flow', stopped: 'stopped',
};

export function hopLine(h: HopRecord): string {
  const ttl = String(h.ttl).padStart(2);
  if (h.address === null) return `${ttl}  ${Array.from({ length: Math.max(1, h.sent) }, () => '*').join('  ')}`;
  const rtts = h.rttMs.map((ms) => `${ms.toFixed(2)} ms`);
  const missing = Array.from({ length: h.sent - h.answered }, () => '*');
  const notes: string[] = [];
  if (h.kind === 'destination') notes.push(h.icmp ? 'destination' : 'destination, TCP answer');
  if (h.kind === 'unreachable') notes.push(`unreachable (ICMP ${h.icmp?.type}/${h.icmp?.code})`);
  if (h.lossPct !== null && h.lossPct > 0) notes.push(`loss ${h.lossPct}%`);
  if (h.nat) notes.push('NAT');
  if (h.quotedTtl !== null && h.quotedTtl !== 1) notes.push(`quoted TTL ${h.quotedTtl}`);
  if (h.mpls.length) notes.push(`MPLS ${h.mpls.map((m) => `L=${m.label}`).join('/')}`);
  if (h.others.length) notes.push(`also ${h.others.join(', ')}`);
  const answers = h.kind === 'destination' ? rtts : [...rtts, ...missing];
  return `${ttl}  ${h.address.padEnd(15)}  ${answers.join('  ')}${notes.length ? `  [${notes.join('; ')}]` : ''}`;
}

export function headerLine(d: DoneRecord, probes: number): string {
  return `trace to ${d.destination}${d.flow ? ` on the ${d.path === 'local' ? 'local' : 'forwarded'} flow ${d.flow}` : ''}, ${probes} probes per TTL`;
}

export function doneLine(d: DoneRecord): string {
  const what = REASONS[d.reason];
  if (d.reason === 'no-flow') return `no live TCP flow to ${d.destination} within ${(d.elapsedMs / 1000).toFixed(0)} s`;
  return `${what}${d.reached ? ` ${d.destination} in ${d.hops} hops` : ` after ${d.hops} hops`}, ${(d.elapsedMs / 1000).toFixed(2)} s, ${d.probes} probes`;
}
