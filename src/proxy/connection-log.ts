// One log entry per connection event: a readable message plus fields for JSON logs.
import { formatEndpoint } from '../config/address.js';
import type { CloseEvent, OpenEvent, TcpInfoSummary } from '../native/addon.js';

export interface LogEntry {
  message: string;
  fields: Record<string, unknown>;
}

const ms = (us: number): number => Math.round(us / 10) / 100;
const rttMs = (i: TcpInfoSummary | null): number | undefined => (i ? ms(i.rttUs) : undefined);

export function openEntry(e: OpenEvent): LogEntry {
  const client = formatEndpoint(e.clientAddress, e.clientPort);
  const target = formatEndpoint(e.targetAddress, e.targetPort);
  return {
    message: `open ${client} -> ${target}`,
    fields: {
      id: e.id,
      via: formatEndpoint(e.localAddress, e.localPort),
      connectMs: ms(e.connectUs),
      clientLeg: e.clientLeg,
      serverLeg: e.serverLeg,
    },
  };
}

export function closeEntry(e: CloseEvent): LogEntry {
  const client = formatEndpoint(e.clientAddress, e.clientPort);
  const target = formatEndpoint(e.targetAddress, e.targetPort);
  return {
    message: `close ${client} -> ${target} ${e.reason}`,
    fields: {
      id: e.id,
      error: e.error ? `${e.error}${e.errorLeg ? ` (${e.errorLeg} leg)` : ''}` : undefined,
      c2s: e.bytesClientToServer,
      s2c: e.bytesServerToClient,
      ms: ms(e.durationUs),
      clientRttMs: rttMs(e.clientInfo),
      serverRttMs: rttMs(e.serverInfo),
      clientRetrans: e.clientInfo?.retransmits,
      serverRetrans: e.serverInfo?.retransmits,
    },
  };
}
