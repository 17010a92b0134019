// What trace keeps of a TCP flow toward a traced destination: the latest headers to make probes
// from, how far each side got, and whether it is established, ended or retransmitting.
import { seqGt } from '../packet/seq.js';
import type { TraceRun } from './trace-run.js';

export class TracedFlow {
  /** the latest packet's IP and TCP headers toward the destination */
  template: Buffer | null = null;
  /** where the TCP header starts in the template */
  templateTcp = 0;
  /** the highest acknowledgment the destination sent; valid once ackSeen */
  ackFromDestination = 0;
  ackSeen = false;
  /** the end of the highest sequence sent toward the destination; valid once sentSeen */
  sentEnd = 0;
  sentSeen = false;
  towardEstablished = false;
  backEstablished = false;
  ended = false;
  run: TraceRun | null = null;
  /** segments sent again since the run began */
  resent = 0;

  /** <toward>: the flow table's direction of packets toward the destination. */
  constructor(readonly name: string, readonly toward: number, readonly destination: Buffer, readonly port: number, readonly path: 'forward' | 'local') {}

  get established(): boolean {
    return this.towardEstablished && this.backEstablished && !this.ended && this.template !== null && this.ackSeen;
  }

  setTemplate(headers: Buffer, tcpOffset: number): void {
    this.template = headers;
    this.templateTcp = tcpOffset;
  }

  /** Records a segment toward the destination; returns whether it resent bytes already sent. */
  sentSegment(seq: number, end: number, payload: number): boolean {
    const resent = payload > 0 && this.sentSeen && !seqGt(end, this.sentEnd);
    if (!this.sentSeen || seqGt(end, this.sentEnd)) this.sentEnd = end;
    this.sentSeen = true;
    return resent && seqGt(this.sentEnd, seq);
  }

  /** Records the destination's acknowledgment; returns whether it acknowledged something new. */
  acknowledged(ack: number): boolean {
    if (this.ackSeen && !seqGt(ack, this.ackFromDestination)) return false;
    this.ackFromDestination = ack;
    this.ackSeen = true;
    return true;
  }
}
