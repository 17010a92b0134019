// The only importer of the compiled addon. Its whole surface is typed here; see addon/*.h for
// what each call does natively.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LegConfig {
  cc: string;              // '' keeps the kernel default
  nodelay: boolean;
  keepalive: boolean;
  keepIdle: number;        // seconds, 0 = kernel default
  keepInterval: number;
  keepCount: number;
  sndbuf: number;          // bytes as SO_SNDBUF takes them, set with SO_SNDBUFFORCE; 0 = kernel autotuning
  rcvbuf: number;          // likewise SO_RCVBUF
}

export interface EngineConfig {
  bindMode: 'client' | 'client-port' | 'fixed';
  fixed4: string | null;   // bindMode 'fixed': local address per family, null = kernel's choice
  fixed6: string | null;
  mark: number;
  mptcp: boolean;
  clientLeg: LegConfig;
  serverLeg: LegConfig;
  bufferSize: number;
  pipeKeepBytes: number;   // idle pipe capacity kept for reuse
  maxConnections: number;  // 0 = no limit
  connectTimeoutMs: number;
  idleTimeoutMs: number;   // 0 = none
  inspect: boolean;        // read leg options back into open events
}

export interface LegReadback {
  cc: string; nodelay: boolean; keepalive: boolean;
  keepIdle: number; keepInterval: number; keepCount: number;
  mark: number; mptcp: boolean;
  sndbuf: number; rcvbuf: number;   // as getsockopt reports them: twice what was set
}

export interface TcpInfoSummary {
  rttUs: number; rttVarUs: number; minRttUs: number;
  retransmits: number; lost: number; cwnd: number; mss: number;
  deliveryRate: number;    // bytes per second
  bytesAcked: number; bytesReceived: number;
  busyUs: number;          // time sending data, and of it, limited by the peer's window and by the send buffer
  rwndLimitedUs: number; sndbufLimitedUs: number;
  cc: string;              // congestion control in use
}

export interface OpenEvent {
  type: 'open';
  id: number;
  clientAddress: string; clientPort: number;
  targetAddress: string; targetPort: number;
  localAddress: string; localPort: number;   // the server leg's own address
  connectUs: number;
  clientLeg?: LegReadback;
  serverLeg?: LegReadback;
}

export type CloseReason =
  | 'eof' | 'client-reset' | 'server-reset' | 'refused' | 'unreachable' | 'connect-timeout'
  | 'idle-timeout' | 'limit' | 'error' | 'shutdown' | 'loop';

export interface CloseEvent {
  type: 'close';
  id: number;
  reason: CloseReason;
  error: string | null;            // errno code behind the reason
  errorLeg: 'client' | 'server' | null;
  opened: boolean;                 // an open event preceded this one
  clientAddress: string; clientPort: number;
  targetAddress: string; targetPort: number;
  bytesClientToServer: number;
  bytesServerToClient: number;
  durationUs: number;
  clientInfo: TcpInfoSummary | null;
  serverInfo: TcpInfoSummary | null;
}

export interface EngineStats {
  accepted: number; active: number; connecting: number; listeners: number;
  bytesClientToServer: number; bytesServerToClient: number;
  fdExhausted: number; pipesInUse: number; pipesIdle: number; pipesUndersized: number;
  /** pipe capacity lent out and idle in the pool: what the user's pipe quota counts */
  pipeBytesInUse: number; pipeBytesIdle: number;
}

export interface ListenOptions { backlog: number; reusePort: boolean; v6only: boolean }

export interface NativeEngine {
  listen(host: string, port: number, options: ListenOptions): number;
  configure(config: EngineConfig): void;
  stopListening(): void;
  /** Resets every open connection; returns their close events (records, see event-record.ts). */
  abortAll(): Buffer;
  stats(): EngineStats;
  /** Figures so far of the connections relaying for at least <minAgeMs>: SAMPLE records. */
  /** SAMPLE records of connections relaying at least minAgeMs whose id % slices == slice. */
  sample(minAgeMs: number, slice: number, slices: number): Buffer;
  close(): Buffer;
}

export interface QueueConfig {
  maxLen: number;          // packets the kernel holds for us (queued and not yet verdicted)
  copyRange: number;       // bytes copied per packet, 1..65535
  gso: boolean;            // NFQA_CFG_F_GSO
  failOpen: boolean;       // NFQA_CFG_F_FAIL_OPEN
  rcvbuf: number;          // netlink receive buffer, bytes
  batch: number;           // packets per receive, 1..1024
  fallbackDrop: boolean;   // verdict for packets the handler left undecided: drop, else accept
}

export interface QueueStats {
  packets: number; bytes: number; batches: number;
  accepted: number; dropped: number; replaced: number; batchVerdicts: number; held: number;
  enobufs: number; receiveErrors: number; verdictErrors: number; sendErrors: number;
  gso: number; checksumNotReady: number; truncated: number;
  lastError: string | null;
}

export interface NativePacketQueue {
  /** Packet records of the current batch (layouts.packet); shared, rewritten per batch. */
  readonly meta: Buffer;
  /** Verdict codes for the current batch, one byte per packet, zeroed before each batch. */
  readonly codes: Buffer;
  /** The verdict of held packet <ref> (queue * 2^32 + id): code ACCEPT or DROP; mark -1 keeps it;
   *  packet (at most 65531 bytes) replaces it. Throws at once when <ref> is not held (never held,
   *  released already, or held in the batch still being handled). */
  verdict(ref: number, code: number, mark: number, packet?: Uint8Array): void;
  /** Accepts packet <index> of the batch being handled with a new mark and/or a replacement, and
   *  marks it decided; throws when it already is. */
  acceptInBatch(index: number, mark: number, packet?: Uint8Array): void;
  flush(): void;
  stats(): QueueStats;
  /** Accepts what is held or waiting, then unbinds; null, or the error of the first step that
   *  failed or went unacknowledged (code ETIMEDOUT; all steps are still tried, each bounded). */
  close(): (Error & { code: string; syscall: string }) | null;
}

/** A raw socket of one family sending whole IP packets, header included (see addon/raw-socket.h). */
export interface NativeRawSocket {
  /**
   * Sends packet[offset, offset + length) to the destination address in its header. null when
   * sent, else the errno code (EAGAIN, ENOBUFS, EMSGSIZE, ENETUNREACH...). Throws when the
   * bytes are not one whole packet of the socket's IP version, or the socket is closed.
   */
  send(packet: Buffer, offset?: number, length?: number): string | null;
  /** Idempotent. */
  close(): void;
}

/** A C struct as the addon lays it out: its size, and each field's byte offset and size. */
export interface Layout {
  size: number;
  fields: Readonly<Record<string, number>>;
  sizes: Readonly<Record<string, number>>;
}

/** The NFQUEUE packet record; its info word packs hw protocol | hook << hookShift | flags << flagsShift. */
export interface PacketLayout extends Layout {
  infoHookShift: number;
  infoFlagsShift: number;
}

export interface Addon {
  /** onEvents gets one Buffer of event records per loop batch (decode with EventBatch). */
  Engine: new (onEvents: (records: Buffer) => void, config: EngineConfig) => NativeEngine;
  /**
   * Binds NFQUEUE queues first..last on one socket; onBatch gets the packet count and the receive
   * area, valid during the call. A failed bind throws with code, syscall and the failing queue.
   */
  PacketQueue: new (first: number, last: number, config: QueueConfig, onBatch: (count: number, area: ArrayBuffer) => void) => NativePacketQueue;
  /** Record layouts (event records, their parts, NFQUEUE packet records); read them through
   *  src/native/tables.ts, which checks them against what the reader assumes. */
  layouts: { event: Layout; endpoint: Layout; tcpInfo: Layout; leg: Layout; packet: PacketLayout };
  /** Event record types (OPEN, CLOSE, SAMPLE) and flags (OPENED, INSPECTED, CLIENT_INFO, SERVER_INFO). */
  eventTypes: Readonly<Record<string, number>>;
  eventFlags: Readonly<Record<string, number>>;
  /** The leg of an error (none, client, server), as numbered in a record. */
  legSides: Readonly<Record<string, number>>;
  /** NFQUEUE packet flags (see PacketFlag in src/nfq/batch.ts). */
  packetFlags: Readonly<Record<string, number>>;
  /** Per-packet verdict codes (DEFAULT, ACCEPT, DROP, HELD, DONE). */
  verdictCodes: Readonly<Record<string, number>>;
  /** Close reason names, indexed by the number in a record (never renumbered). */
  closeReasons: readonly string[];
  /** Needs CAP_NET_RAW (else throws with code EPERM); mark 0 leaves SO_MARK unset. */
  RawSocket: new (family: 4 | 6, options: { mark: number; priority: number }) => NativeRawSocket;
  /** null when a TCP socket accepts the algorithm, else the errno code (ENOENT: unknown). */
  probeCongestion(name: string): string | null;
  /** null when MPTCP sockets can be created, else the errno code. */
  probeMptcp(): string | null;
  /** sd_notify: sends <message> to the socket at <path> ("@..." abstract); null or the errno code. */
  notify(path: string, message: string): string | null;
}

const here = dirname(fileURLToPath(import.meta.url));
// src/native (run from source) or dist/src/native (compiled): the package root is above.
const candidates = [join(here, '../..'), join(here, '../../..')].map((root) =>
  join(root, 'build/Release/tcp_intercept.node'),
);

let loaded: Addon | undefined;

export function addon(): Addon {
  if (loaded) return loaded;
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new Error(
      `tcp-intercept: native addon not built (looked in ${candidates.join(', ')}); run 'npm ci' or 'npm run build'`,
    );
  }
  loaded = createRequire(import.meta.url)(path) as Addon;
  return loaded;
}
