// Reads the engine's event records (addon/event-record.h), with the offsets, codes and close
// reason names the addon exports, taken once at load. Numbers are read in place; objects and
// address strings are built only by open()/close(), for what gets logged.
import { constants } from 'node:os';
import { ipv4Text, ipv6Text } from '../packet/ip.js';
import { addon, type CloseEvent, type CloseReason, type LegReadback, type OpenEvent, type TcpInfoSummary } from './addon.js';
import { fieldOffsets, namedValues } from './tables.js';

export type Leg = 'client' | 'server';

const native = addon();
const { layouts } = native;

/** Every field this reader reads, with the width it reads it at (checked against the addon). */
export const EVENT_RECORD_READS = {
  event: {
    type: 1, reason: 1, errLeg: 1, flags: 1, errno: 4, id: 8,
    client: layouts.endpoint.size, target: layouts.endpoint.size, local: layouts.endpoint.size,
    connectUs: 8, clientLeg: layouts.leg.size, serverLeg: layouts.leg.size,
    c2s: 8, s2c: 8, durationUs: 8, clientInfo: layouts.tcpInfo.size, serverInfo: layouts.tcpInfo.size,
  },
  endpoint: { family: 1, port: 2, address: 16 },
  tcpInfo: {
    rttUs: 4, rttVarUs: 4, minRttUs: 4, retransmits: 4, lost: 4, cwnd: 4, mss: 4,
    deliveryRate: 8, bytesAcked: 8, bytesReceived: 8, busyUs: 8, rwndLimitedUs: 8, sndbufLimitedUs: 8, cc: 16,
  },
  leg: { cc: 16, nodelay: 1, keepalive: 1, mptcp: 1, keepIdle: 4, keepInterval: 4, keepCount: 4, mark: 4, sndbuf: 4, rcvbuf: 4 },
} as const;

const RECORD_SIZE = layouts.event.size;
const R = fieldOffsets(layouts.event, 'event record', EVENT_RECORD_READS.event);
const EP = fieldOffsets(layouts.endpoint, 'event record endpoint', EVENT_RECORD_READS.endpoint);
const INFO = fieldOffsets(layouts.tcpInfo, 'event record TCP_INFO', EVENT_RECORD_READS.tcpInfo);
const LEG = fieldOffsets(layouts.leg, 'event record leg options', EVENT_RECORD_READS.leg);
const CC_SIZE = EVENT_RECORD_READS.leg.cc;
const TYPE = namedValues(native.eventTypes, 'event record types', ['OPEN', 'SAMPLE']);
const FLAG = namedValues(native.eventFlags, 'event record flags', ['OPENED', 'INSPECTED', 'CLIENT_INFO', 'SERVER_INFO']);
const SIDE = namedValues(native.legSides, 'leg sides', ['client', 'server']);
const REASONS = native.closeReasons as readonly CloseReason[];

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const LEGS: Array<Leg | undefined> = [];
LEGS[SIDE.client] = 'client';
LEGS[SIDE.server] = 'server';

export class EventBatch {
  readonly count: number;
  readonly #buf: Buffer;
  readonly #view: DataView;

  constructor(buf: Buffer) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.count = Math.floor(buf.byteLength / RECORD_SIZE);
  }

  isOpen(i: number): boolean {
    return this.#buf[i * RECORD_SIZE + R.type] === TYPE.OPEN;
  }

  /** A still-open connection's figures so far (from engine.sample()). */
  isSample(i: number): boolean {
    return this.#buf[i * RECORD_SIZE + R.type] === TYPE.SAMPLE;
  }

  /** Whether an open event preceded this close (false: rejected or failed to connect). */
  opened(i: number): boolean {
    return (this.#buf[i * RECORD_SIZE + R.flags] & FLAG.OPENED) !== 0;
  }

  connectUs(i: number): number {
    return this.#f64(i, R.connectUs);
  }

  durationUs(i: number): number {
    return this.#f64(i, R.durationUs);
  }

  hasInfo(i: number, leg: Leg): boolean {
    return (this.#buf[i * RECORD_SIZE + R.flags] & (leg === 'client' ? FLAG.CLIENT_INFO : FLAG.SERVER_INFO)) !== 0;
  }

  rttUs(i: number, leg: Leg): number {
    return this.#view.getUint32(this.#infoAt(i, leg) + INFO.rttUs, true);
  }

  retransmits(i: number, leg: Leg): number {
    return this.#view.getUint32(this.#infoAt(i, leg) + INFO.retransmits, true);
  }

  deliveryRate(i: number, leg: Leg): number {
    return this.#view.getFloat64(this.#infoAt(i, leg) + INFO.deliveryRate, true);
  }

  /** Time the leg spent sending, and of it, limited by its send buffer or the peer's window. */
  busyUs(i: number, leg: Leg): number {
    return this.#view.getFloat64(this.#infoAt(i, leg) + INFO.busyUs, true);
  }

  sndbufLimitedUs(i: number, leg: Leg): number {
    return this.#view.getFloat64(this.#infoAt(i, leg) + INFO.sndbufLimitedUs, true);
  }

  rwndLimitedUs(i: number, leg: Leg): number {
    return this.#view.getFloat64(this.#infoAt(i, leg) + INFO.rwndLimitedUs, true);
  }

  cc(i: number, leg: Leg): string {
    return this.#cstring(this.#infoAt(i, leg) + INFO.cc, CC_SIZE);
  }

  reason(i: number): CloseReason {
    return REASONS[this.#buf[i * RECORD_SIZE + R.reason]];
  }

  /** The server address of an open record (what the proxy connected to). */
  target(i: number): string {
    return this.#host(i * RECORD_SIZE + R.target);
  }

  open(i: number): OpenEvent {
    const r = i * RECORD_SIZE;
    const inspected = (this.#buf[r + R.flags] & FLAG.INSPECTED) !== 0;
    return {
      type: 'open',
      id: this.#f64(i, R.id),
      clientAddress: this.#host(r + R.client), clientPort: this.#port(r + R.client),
      targetAddress: this.#host(r + R.target), targetPort: this.#port(r + R.target),
      localAddress: this.#host(r + R.local), localPort: this.#port(r + R.local),
      connectUs: this.#f64(i, R.connectUs),
      ...(inspected ? { clientLeg: this.#leg(r + R.clientLeg), serverLeg: this.#leg(r + R.serverLeg) } : {}),
    };
  }

  close(i: number): CloseEvent {
    const r = i * RECORD_SIZE;
    const flags = this.#buf[r + R.flags];
    const err = this.#view.getInt32(r + R.errno, true);
    return {
      type: 'close',
      id: this.#f64(i, R.id),
      reason: this.reason(i),
      error: err ? (ERRNO_NAMES.get(err) ?? `errno ${err}`) : null,
      errorLeg: LEGS[this.#buf[r + R.errLeg]] ?? null,
      opened: this.opened(i),
      clientAddress: this.#host(r + R.client), clientPort: this.#port(r + R.client),
      targetAddress: this.#host(r + R.target), targetPort: this.#port(r + R.target),
      bytesClientToServer: this.#f64(i, R.c2s),
      bytesServerToClient: this.#f64(i, R.s2c),
      durationUs: this.#f64(i, R.durationUs),
      clientInfo: flags & FLAG.CLIENT_INFO ? this.#info(r + R.clientInfo) : null,
      serverInfo: flags & FLAG.SERVER_INFO ? this.#info(r + R.serverInfo) : null,
    };
  }

  #infoAt(i: number, leg: Leg): number {
    return i * RECORD_SIZE + (leg === 'client' ? R.clientInfo : R.serverInfo);
  }

  #cstring(off: number, max: number): string {
    const end = this.#buf.indexOf(0, off);
    return this.#buf.toString('latin1', off, end === -1 || end > off + max ? off + max : end);
  }

  #f64(i: number, off: number): number {
    return this.#view.getFloat64(i * RECORD_SIZE + off, true);
  }

  #port(off: number): number {
    return this.#view.getUint16(off + EP.port, true);
  }

  #host(off: number): string {
    const b = this.#buf;
    const family = b[off + EP.family];
    if (family === 4) return ipv4Text(b, off + EP.address);
    return family === 6 ? ipv6Text(b, off + EP.address) : '';
  }

  #info(off: number): TcpInfoSummary {
    const u32 = (at: number): number => this.#view.getUint32(off + at, true);
    const f64 = (at: number): number => this.#view.getFloat64(off + at, true);
    return {
      rttUs: u32(INFO.rttUs), rttVarUs: u32(INFO.rttVarUs), minRttUs: u32(INFO.minRttUs), retransmits: u32(INFO.retransmits),
      lost: u32(INFO.lost), cwnd: u32(INFO.cwnd), mss: u32(INFO.mss), deliveryRate: f64(INFO.deliveryRate),
      bytesAcked: f64(INFO.bytesAcked), bytesReceived: f64(INFO.bytesReceived),
      busyUs: f64(INFO.busyUs), rwndLimitedUs: f64(INFO.rwndLimitedUs), sndbufLimitedUs: f64(INFO.sndbufLimitedUs),
      cc: this.#cstring(off + INFO.cc, CC_SIZE),
    };
  }

  #leg(off: number): LegReadback {
    const b = this.#buf;
    const i32 = (at: number): number => this.#view.getInt32(off + at, true);
    return {
      cc: this.#cstring(off + LEG.cc, CC_SIZE),
      nodelay: b[off + LEG.nodelay] !== 0, keepalive: b[off + LEG.keepalive] !== 0, mptcp: b[off + LEG.mptcp] !== 0,
      keepIdle: i32(LEG.keepIdle), keepInterval: i32(LEG.keepInterval), keepCount: i32(LEG.keepCount),
      mark: this.#view.getUint32(off + LEG.mark, true),
      sndbuf: i32(LEG.sndbuf), rcvbuf: i32(LEG.rcvbuf),
    };
  }
}
