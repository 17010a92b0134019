// What a trace reports: one record per hop and a last one per trace, as JSON lines (--json, the
// service's trace log, the control channel) and as a traceroute-like table.

export interface MplsEntry { label: number; tc: number; bottom: boolean; ttl: number }

export type HopKind = 'router' | 'destination' | 'unreachable' | 'silent';

export interface HopRecord {
  type: 'hop';
  /** the traced flow, source > destination as the probes go */
  flow: string;
  ttl: number;
  /** who answered (the first, when several did); null for a silent hop */
  address: string | null;
  kind: HopKind;
  /** one per answered probe, in the order sent */
  rttMs: number[];
  sent: number;
  answered: number;
  /** unanswered probes in percent; null at the destination, whose TCP answers are rate-limited by design */
  lossPct: number | null;
  /** TTL (hop limit) of the probe as the responder quoted it: 1 normally, 0 or above 1 when a router before it misbehaves */
  quotedTtl: number | null;
  /** TTL of the answer as it arrived here: a hint of the return path's length */
  replyTtl: number | null;
  /** RFC 4950 label stack the responder reported */
  mpls: MplsEntry[];
  /** the quote does not show the flow's addresses and ports as sent: a NAT between here and the responder */
  nat: boolean;
  /** other addresses that answered at this TTL (load balancing, route change during the trace) */
  others: string[];
  /** ICMP type and code of the answer (absent for a TCP answer or a silent hop) */
  icmp?: { type: number; code: number };
  /** when the first answer came (ISO 8601) */
  at: string | null;
}

export type DoneReason = 'reached' | 'unreachable' | 'max-ttl' | 'silent' | 'flow-ended' | 'retransmitting' | 'no-flow' | 'stopped';

export interface DoneRecord {
  type: 'done';
  destination: string;
  flow: string | null;
  /** 'forward' (a flow this box forwards) or 'local' (this box's own socket, e.g. the proxy's server leg) */
  path: 'forward' | 'local' | null;
  reached: boolean;
  reason: DoneReason;
  /** hops up to the destination, or up to the last TTL tried */
  hops: number;
  probes: number;
  elapsedMs: number;
  startedAt: string;
}

export type TraceRecord = HopRecord | DoneRecord;
