// The contract of a packet stage (the link emulator; snoop and trace next): the pipeline offers it
// each packet that no earlier stage decided, in order, with the packet parsed at most once.
//
// Rules every stage keeps:
// - Decide a packet through its StagePacket (accept, drop, hold, replace) or leave it to the next
//   stage; what no stage decides gets the queue's fallback verdict (accept). A packet is decided
//   once: a second decision throws.
// - Bytes of a packet live until the batch ends: keep them only by copying (copyPacket).
// - A held packet is released (StageContext.release) exactly once; what is still held when the
//   pipeline closes is accepted by the queue as it unbinds.
// - TCP Small Queues: a held packet of this host's own sockets (StagePacket.local) stays charged
//   to its socket and throttles it to a few packets per hold. Only a stage that declares
//   holdsLocal (the emulator, which exists to delay) may hold one; the pipeline warns once.
// - Injected packets carry StageContext.injectionMark, which the queue rules never queue again.
import type { Registry } from 'prom-client';
import type { ReloadOutcome } from '../host/component.js';
import type { Logger } from '../log/logger.js';
import type { PacketRef } from '../nfq/batch.js';
import type { LatenessSnapshot } from './lateness-histogram.js';
import type { StagePacket } from './stage-packet.js';

export interface StageContext {
  logger: Logger;
  registry: Registry;
  /** The verdict of a packet this stage held (sent with the others of this turn of the loop). */
  release(ref: PacketRef, accept: boolean, opts?: { mark?: number; packet?: Uint8Array }): void;
  /** SO_MARK of packets the stage injects: the queue rules pass them without queueing. */
  injectionMark: number;
}

export interface PacketStage<O = unknown> {
  readonly name: string;
  /** May hold packets of this host's own sockets (see TCP Small Queues above). */
  readonly holdsLocal?: boolean;
  /** Takes GSO packets (up to 64 KiB, checksum maybe not ready): the queue asks for them when every stage does. */
  readonly acceptsGso?: boolean;
  /** Does without the packets the queue cannot take when it falls behind: the queue then lets them
   *  pass unseen (fail-open) instead of dropping them, when every stage does. */
  readonly missesSafely?: boolean;
  /** Before the first packet. */
  attach?(ctx: StageContext): void;
  /** A packet no earlier stage decided: decide it, or return and leave it to the next. */
  onPacket(p: StagePacket): void;
  /** After every packet of a receive batch was offered. */
  onBatchEnd?(): void;
  /** Its settings, for the ready line of the log. */
  describe(): string;
  reload?(next: O | null): ReloadOutcome;
  /** Stops its timers (the queue accepts what is still held as it unbinds). */
  close(): void;
  /** What a standalone subcommand prints when it stops. */
  report?(): string[];
  /** How late its timer fires (a DeadlineScheduler's lateness()), for the metrics. */
  lateness?(): LatenessSnapshot;
}
