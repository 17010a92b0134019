// Reads the engine's event records (layout: addon/event-record.h). Numbers are read in place;
// objects and address strings are built only by open()/close(), for what gets logged.
import { constants } from 'node:os';
import { ipv4Text, ipv6Text } from '../packet/ip.js';
import type { CloseEvent, CloseReason, LegReadback, OpenEvent, TcpInfoSummary } from './addon.js';

export const RECORD_SIZE = 264;
const OPEN = 1, SAMPLE = 3;
const F_INSPECTED = 2, F_CLIENT_INFO = 4, F_SERVER_INFO = 8, F_OPENED = 1;
const TYPE = 0, REASON = 1, ERR_LEG = 2, FLAGS = 3, ERRNO = 4, ID = 8;
const CLIENT = 16, TARGET = 36, LOCAL = 56;
const CONNECT_US = 80, C2S = 80, S2C = 88, DURATION_US = 96;
const CLIENT_INFO = 104, SERVER_INFO = 184, INFO_CC = 56, CLIENT_LEG = 104, SERVER_LEG = 144;

export type Leg = 'client' | 'server';

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const LEGS = [null, 'client', 'server'] as const;

export class EventBatch {
  readonly count: number;
  readonly #buf: Buffer;
  readonly #view: DataView;

  constructor(buf: Buffer, readonly reasons: readonly string[]) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.count = Math.floor(buf.byteLength / RECORD_SIZE);
  }

  isOpen(i: number): boolean {
    return this.#buf[i * RECORD_SIZE + TYPE] === OPEN;
  }

  /** A still-open connection's figures so far (from engine.sample()). */
  isSample(i: number): boolean {
    return this.#buf[i * RECORD_SIZE + TYPE] === SAMPLE;
  }

  /** Whether an open event preceded this close (false: rejected or failed to connect). */
  opened(i: number): boolean {
    return (this.#buf[i * RECORD_SIZE + FLAGS] & F_OPENED) !== 0;
  }

  connectUs(i: number): number {
    return this.#f64(i, CONNECT_US);
  }

  durationUs(i: number): number {
    return this.#f64(i, DURATION_US);
  }

  hasInfo(i: number, leg: Leg): boolean {
    return (this.#buf[i * RECORD_SIZE + FLAGS] & (leg === 'client' ? F_CLIENT_INFO : F_SERVER_INFO)) !== 0;
  }

  rttUs(i: number, leg: Leg): number {
    return this.#view.getUint32(this.#infoAt(i, leg), true);
  }

  retransmits(i: number, leg: Leg): number {
    return this.#view.getUint32(this.#infoAt(i, leg) + 12, true);
  }

  deliveryRate(i: number, leg: Leg): number {
    return this.#view.getFloat64(this.#infoAt(i, leg) + 32, true);
  }

  cc(i: number, leg: Leg): string {
    return this.#cstring(this.#infoAt(i, leg) + INFO_CC, 16);
  }

  reason(i: number): CloseReason {
    return this.reasons[this.#buf[i * RECORD_SIZE + REASON]] as CloseReason;
  }

  open(i: number): OpenEvent {
    const r = i * RECORD_SIZE;
    const inspected = (this.#buf[r + FLAGS] & F_INSPECTED) !== 0;
    return {
      type: 'open',
      id: this.#f64(i, ID),
      clientAddress: this.#host(r + CLIENT), clientPort: this.#port(r + CLIENT),
      targetAddress: this.#host(r + TARGET), targetPort: this.#port(r + TARGET),
      localAddress: this.#host(r + LOCAL), localPort: this.#port(r + LOCAL),
      connectUs: this.#f64(i, CONNECT_US),
      ...(inspected ? { clientLeg: this.#leg(r + CLIENT_LEG), serverLeg: this.#leg(r + SERVER_LEG) } : {}),
    };
  }

  close(i: number): CloseEvent {
    const r = i * RECORD_SIZE;
    const flags = this.#buf[r + FLAGS];
    const err = this.#view.getInt32(r + ERRNO, true);
    return {
      type: 'close',
      id: this.#f64(i, ID),
      reason: this.reason(i),
      error: err ? (ERRNO_NAMES.get(err) ?? `errno ${err}`) : null,
      errorLeg: LEGS[this.#buf[r + ERR_LEG]] ?? null,
      opened: this.opened(i),
      clientAddress: this.#host(r + CLIENT), clientPort: this.#port(r + CLIENT),
      targetAddress: this.#host(r + TARGET), targetPort: this.#port(r + TARGET),
      bytesClientToServer: this.#f64(i, C2S),
      bytesServerToClient: this.#f64(i, S2C),
      durationUs: this.#f64(i, DURATION_US),
      clientInfo: flags & F_CLIENT_INFO ? this.#info(r + CLIENT_INFO) : null,
      serverInfo: flags & F_SERVER_INFO ? this.#info(r + SERVER_INFO) : null,
    };
  }

  #infoAt(i: number, leg: Leg): number {
    return i * RECORD_SIZE + (leg === 'client' ? CLIENT_INFO : SERVER_INFO);
  }

  #cstring(off: number, max: number): string {
    const end = this.#buf.indexOf(0, off);
    return this.#buf.toString('latin1', off, end === -1 || end > off + max ? off + max : end);
  }

  #f64(i: number, off: number): number {
    return this.#view.getFloat64(i * RECORD_SIZE + off, true);
  }

  #port(off: number): number {
    return this.#view.getUint16(off + 2, true);
  }

  #host(off: number): string {
    const b = this.#buf;
    if (b[off] === 4) return ipv4Text(b, off + 4);
    return b[off] === 6 ? ipv6Text(b, off + 4) : '';
  }

  #info(off: number): TcpInfoSummary {
    const u32 = (k: number): number => this.#view.getUint32(off + 4 * k, true);
    const f64 = (at: number): number => this.#view.getFloat64(off + at, true);
    return {
      rttUs: u32(0), rttVarUs: u32(1), minRttUs: u32(2), retransmits: u32(3), lost: u32(4), cwnd: u32(5), mss: u32(6),
      deliveryRate: f64(32), bytesAcked: f64(40), bytesReceived: f64(48), cc: this.#cstring(off + INFO_CC, 16),
    };
  }

  #leg(off: number): LegReadback {
    const b = this.#buf;
    return {
      cc: this.#cstring(off, 16),
      nodelay: b[off + 16] !== 0, keepalive: b[off + 17] !== 0, mptcp: b[off + 18] !== 0,
      keepIdle: this.#view.getInt32(off + 20, true), keepInterval: this.#view.getInt32(off + 24, true),
      keepCount: this.#view.getInt32(off + 28, true), mark: this.#view.getUint32(off + 32, true),
    };
  }
}
