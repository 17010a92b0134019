// A trace's destination: a numeric IPv4 or IPv6 address, as the bytes packets carry and in the
// text the packet views print (what answers are compared with).
import { isIPv4, isIPv6 } from 'node:net';
import { ipv4Text, ipv6Text } from '../packet/ip.js';

export interface Destination {
  bytes: Buffer;
  text: string;
}

function ipv6Bytes(text: string): Buffer {
  const out = Buffer.alloc(16);
  let body = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (v4) {
    Buffer.from(v4[1].split('.').map(Number)).copy(out, 12);
    body = body.slice(0, -v4[1].length) + '0:0';
  }
  const [head, tail] = body.split('::');
  const words = (s: string | undefined): number[] => (s ? s.split(':').filter(Boolean).map((w) => parseInt(w, 16)) : []);
  const front = words(head), back = words(tail);
  front.forEach((w, i) => out.writeUInt16BE(w, 2 * i));
  back.forEach((w, i) => out.writeUInt16BE(w, 16 - 2 * (back.length - i)));
  if (v4) Buffer.from(v4[1].split('.').map(Number)).copy(out, 12);
  return out;
}

/** The address, or null when <text> is not a numeric IPv4 or IPv6 address. */
export function parseDestination(text: string): Destination | null {
  if (isIPv4(text)) {
    const bytes = Buffer.from(text.split('.').map(Number));
    return { bytes, text: ipv4Text(bytes, 0) };
  }
  if (isIPv6(text) && !text.includes('%')) {
    const bytes = ipv6Bytes(text);
    return { bytes, text: ipv6Text(bytes, 0) };
  }
  return null;
}
