// What `tcp-intercept rules` installs: which packets go to the proxy, and the mark and
// routing table that deliver them locally.
import { isIP } from 'node:net';
import { optionError } from '../errors.js';

/** New connections to these destination ports/ranges (all when empty) go to the listen port. */
export interface Divert {
  ports: string[];
  port: number;
}

export interface RuleOptions {
  backend: 'nft' | 'iptables';
  port: number;                  // the proxy's listen port
  interfaces: string[];          // intercept only what arrives on these (all when empty)
  ports: string[];               // intercept only these destination ports/ranges (all when empty)
  diverts?: Divert[];            // several listeners side by side; replaces port and ports
  excludePorts: string[];
  excludeSources: string[];      // CIDRs, IPv4 or IPv6
  excludeDestinations: string[];
  fwmark: number;
  table: number;
}

export const divertsOf = (o: RuleOptions): Divert[] => o.diverts ?? [{ ports: o.ports, port: o.port }];

/** The items of repeated and comma-separated option values, trimmed, empty ones dropped. */
function commaItems(values: string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((p) => p.trim()).filter(Boolean);
}

/** "80,443,8000-8100" -> ["80", "443", "8000-8100"], each checked. */
export function parsePorts(values: string[], what: string): string[] {
  const out: string[] = [];
  for (const part of commaItems(values)) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN, hi = m?.[2] ? Number(m[2]) : lo;
    if (!(lo >= 1 && hi <= 65535 && lo <= hi)) throw optionError(what, `'${part}' is not a port or a port range (1-65535)`);
    out.push(lo === hi ? String(lo) : `${lo}-${hi}`);
  }
  return out;
}

/** "10.0.0.0/8", "2001:db8::/32" or a single address; checked, returned as given. */
export function parseNetworks(values: string[], what: string): string[] {
  return commaItems(values).map((net) => {
    const [addr, len, extra] = net.split('/');
    const family = isIP(addr);
    const max = family === 6 ? 128 : 32;
    const ok = family !== 0 && extra === undefined && (len === undefined || (/^\d{1,3}$/.test(len) && Number(len) <= max));
    if (!ok) throw optionError(what, `'${net}' is not an IPv4 or IPv6 network (ADDR/LEN)`);
    return net;
  });
}

export function parseInterfaces(values: string[], what: string): string[] {
  return commaItems(values).map((name) => {
    if (!/^[A-Za-z0-9_.:@+-]{1,15}$/.test(name)) throw optionError(what, `'${name}' is not an interface name`);
    return name;
  });
}

export const isV6 = (net: string): boolean => net.includes(':');
export const hex = (n: number): string => `0x${n.toString(16)}`;

/** Tables the kernel itself uses: a `local` default route in one of them takes over the host's routing. */
const RESERVED_TABLES = new Map([[0, 'unspecified'], [253, 'default'], [254, 'main'], [255, 'local']]);

/** The routing table for marked packets, unless it is one of the kernel's own. */
export function checkTable(table: number, what: string): number {
  const name = RESERVED_TABLES.get(table);
  if (name !== undefined) throw optionError(what, `${table} is the kernel's ${name} table; choose another (1-252, or 256 and above)`);
  return table;
}

/**
 * The proxy's server legs carry its SO_MARK <mark> (--mark). Where that shares a bit with the
 * fwmark, `ip rule fwmark M/M` routes them to the local stack, back into the proxy.
 */
export function checkServerMark(fwmark: number, mark: number): void {
  if ((fwmark & mark) === 0) return;
  throw optionError('--fwmark', `${hex(fwmark)} shares bits with the proxy's server-leg mark ${hex(mark)} (--mark): its connections to the servers would be routed back into it; choose marks with no bit in common`);
}
