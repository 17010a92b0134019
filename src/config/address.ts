// Address arguments: numeric only (a transparent proxy must not depend on DNS to start).
import { isIP } from 'node:net';
import { optionError } from '../errors.js';

export interface Endpoint {
  host: string;   // numeric, without brackets
  port: number;
}

const unbracket = (s: string): string => (s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s);

/** Splits "ADDR:PORT", "[V6]:PORT" (and the original's "[ADDR]:[PORT]") into host and port text. */
function split(text: string): { host: string; port: string | null } {
  const m = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (m) return { host: m[1] ?? '', port: m[2] ?? null };
  const colon = text.lastIndexOf(':');
  if (colon === -1 || text.indexOf(':') !== colon) return { host: text, port: null };   // v4, or bare v6
  return { host: text.slice(0, colon), port: text.slice(colon + 1) };
}

export function parsePort(text: string, what: string, allowZero = false): number {
  const t = unbracket(text);
  const port = /^\d{1,5}$/.test(t) ? Number(t) : NaN;
  if (!(port <= 65535 && (port > 0 || (allowZero && port === 0)))) {
    throw optionError(what, `'${text}' is not a port number (${allowZero ? 0 : 1}-65535)`);
  }
  return port;
}

export function parseHost(text: string, what: string): string {
  const host = unbracket(text);
  if (!isIP(host)) throw optionError(what, `'${text}' is not a numeric IPv4 or IPv6 address`);
  return host;
}

/** "ADDR:PORT" with a required port, as for --bind-listen. */
export function parseEndpoint(text: string, what: string): Endpoint {
  const { host, port } = split(text.trim());
  if (port === null) throw optionError(what, `'${text}' needs a port (ADDR:PORT, [IPv6]:PORT)`);
  return { host: parseHost(host, what), port: parsePort(port, what) };
}

/** "ADDR", "[ADDR]" or "ADDR:0": a local address with the port left to the kernel. */
export function parseLocalAddress(text: string, what: string): string {
  const { host, port } = split(text.trim());
  if (port !== null && parsePort(port, what, true) !== 0) {
    throw optionError(what, `'${text}': a fixed outgoing port cannot serve more than one connection; give the address alone`);
  }
  return parseHost(host, what);
}

export function formatEndpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
