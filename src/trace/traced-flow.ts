// What trace keeps of a TCP flow toward a traced destination: headers to make probes from, what
// the destination has acknowledged, and whether the flow is established, ended or losing.
import { seqGt } from '../packet/seq.js';
import type { TraceRun } from './trace-run.js';

export class TracedFlow {
  /** IP and TCP headers as the flow's packets toward the destination have them */
  template: Buffer | null = null;
  /** where the TCP header starts in the template */
  templateTcp = 0;
  /** whether the template is a packet toward the destination (else one from it, turned around) */
  templateToward = false;
  /** the highest acknowledgment the destination sent; valid once ackSeen */
  ackFromDestination = 0;
  ackSeen = false;
  /** the latest sequence number toward the destination; valid once towardSeqSeen */
  towardSeq = 0;
  towardSeqSeen = false;
  /** a packet either way carried an ACK and no SYN: the handshake is over */
  handshakeDone = false;
  ended = false;
  run: TraceRun | null = null;
  /** since when each side's ACKs (toward the destination, from it) have all reported a hole (a
   *  SACK block above the acknowledgment); -1: the last one did not */
  readonly holeSince = [-1, -1];
  /** a probe asking the destination for its acknowledgment (see TraceEngine) */
  bootstrap: { seq: number; sentAt: number } | null = null;
  /** no probe before this time: the destination answers one out-of-window segment per 500 ms */
  quietUntil = 0;

  /** <toward>: the flow table's direction of packets toward the destination; <firstSeen>: now. */
  constructor(
    readonly name: string, readonly toward: number, readonly destination: Buffer, readonly port: number,
    readonly path: 'forward' | 'local', readonly firstSeen: number,
  ) {}

  /** Established, and probes can be made. */
  get established(): boolean {
    return this.handshakeDone && !this.ended && this.template !== null;
  }

  setTemplate(headers: Buffer, tcpOffset: number, toward: boolean): void {
    this.template = headers;
    this.templateTcp = tcpOffset;
    this.templateToward = toward;
  }

  /** Records the destination's acknowledgment; returns whether it acknowledged something new. */
  acknowledged(ack: number): boolean {
    if (this.ackSeen && !seqGt(ack, this.ackFromDestination)) return false;
    this.ackFromDestination = ack;
    this.ackSeen = true;
    return true;
  }
}
