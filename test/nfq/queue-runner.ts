// Runs inside a lab namespace: binds queue 0 (or the options' queue or range) with one of the test
// handlers named on the command line, prints "ready", and on SIGTERM closes the queue and prints
// its stats as one JSON line.
import { IpProto, parsePacket, ParsedPacket, updateChecksum16 } from '../../src/packet/index.js';
import { PacketFlag, type PacketBatch } from '../../src/nfq/batch.js';
import { PacketQueue, type QueueOptions } from '../../src/nfq/queue.js';

const [mode, optionsJson = '{}'] = process.argv.slice(2);
const options = JSON.parse(optionsJson) as Partial<QueueOptions> & { delayMs?: number };
const parsed = new ParsedPacket();
const extra = {
  parseErrors: 0, keptLengthAfter: -1, gsoSeen: 0, maxLength: 0, perQueue: {} as Record<number, number>,
  notRefused: 0, refusals: {} as Record<string, number>,
};
const countQueue = (q: number): void => {
  extra.perQueue[q] = (extra.perQueue[q] ?? 0) + 1;
};
/** Calls <misuse>, which must throw; counts the refusal by its message (digits as N). */
const refused = (misuse: () => void): void => {
  try {
    misuse();
    extra.notRefused++;
  } catch (e) {
    const key = `${(e as Error).name}: ${(e as Error).message.replace(/\d+/g, 'N')}`;
    extra.refusals[key] = (extra.refusals[key] ?? 0) + 1;
  }
};
const OVERSIZE = Buffer.alloc(65532);
let kept: Buffer | null = null;
let seen = 0;

const ICMP_ECHO_REQUEST = 8;
const isEchoRequest = (p: Buffer): boolean => p[0] >> 4 === 4 && p[9] === IpProto.ICMP && p[(p[0] & 15) * 4] === ICMP_ECHO_REQUEST;
const echoSeq = (p: Buffer): number => p.readUInt16BE((p[0] & 15) * 4 + 6);

const handlers: Record<string, (b: PacketBatch) => void> = {
  accept: () => undefined,
  // Every odd-numbered echo request is dropped, everything else accepted explicitly.
  'drop-odd-echo': (b) => {
    for (let i = 0; i < b.length; i++) {
      const p = b.packet(i);
      if (isEchoRequest(p) && echoSeq(p) % 2 === 1) b.drop(i);
      else b.accept(i);
    }
  },
  // Every packet is held and released delayMs later.
  hold: (b) => {
    for (let i = 0; i < b.length; i++) {
      countQueue(b.queue(i));
      const ref = b.hold(i);
      setTimeout(() => queue.verdict(ref, true), options.delayMs ?? 30);
    }
  },
  // A replacement too large is refused; then each packet is accepted and decided again three ways.
  'decide-twice': (b) => {
    for (let i = 0; i < b.length; i++) {
      refused(() => b.acceptWith(i, { packet: OVERSIZE }));
      b.accept(i);
      refused(() => b.drop(i));
      refused(() => b.hold(i));
      refused(() => b.acceptWith(i, { mark: 1 }));
    }
  },
  // Every packet held, and released wrongly every way there is, and once rightly.
  'release-misuse': (b) => {
    for (let i = 0; i < b.length; i++) {
      const ref = b.hold(i);
      refused(() => queue.verdict(ref, true));
      setTimeout(() => {
        refused(() => queue.verdict(ref, true, { packet: OVERSIZE }));
        queue.verdict(ref, true);
        refused(() => queue.verdict(ref, false));
        refused(() => queue.verdict(ref + 2 ** 31, false));
      }, 5);
    }
  },
  // Echo requests leave with TTL 5 (header checksum updated) and mark 0x77.
  rewrite: (b) => {
    for (let i = 0; i < b.length; i++) {
      const p = b.packet(i);
      if (!isEchoRequest(p)) continue;
      const copy = Buffer.from(p);
      const before = copy.readUInt16BE(8);
      copy[8] = 5;
      copy.writeUInt16BE(updateChecksum16(copy.readUInt16BE(10), before, copy.readUInt16BE(8)), 10);
      b.acceptWith(i, { mark: 0x77, packet: copy });
    }
  },
  // Throws on a malformed packet and on every third well-formed one, mid-batch.
  throw: (b) => {
    for (let i = 0; i < b.length; i++) {
      seen++;
      if (parsePacket(b.packet(i), parsed) !== 0) {
        extra.parseErrors++;
        throw new Error('malformed packet');
      }
      if (seen % 3 === 0) throw new Error('every third packet');
      b.accept(i);
    }
  },
  // Parses every packet (GSO ones included) and records the flags.
  parse: (b) => {
    for (let i = 0; i < b.length; i++) {
      countQueue(b.queue(i));
      if (parsePacket(b.packet(i), parsed) !== 0) extra.parseErrors++;
      if (b.has(i, PacketFlag.GSO)) extra.gsoSeen++;
      extra.maxLength = Math.max(extra.maxLength, b.copiedLength(i));
    }
  },
  // Keeps a view of the first packet past its batch.
  'keep-view': (b) => {
    if (kept === null && b.length > 0) {
      kept = b.packet(0);
      setImmediate(() => (extra.keptLengthAfter = kept?.length ?? -1));
    }
  },
};

const handler = handlers[mode];
if (!handler) throw new Error(`unknown mode ${mode}`);
let handlerErrors = 0;
const queue = new PacketQueue({ queue: 0, ...options, onHandlerError: () => handlerErrors++ }, handler);
process.on('SIGTERM', () => {
  const stats = queue.stats();
  const closeError = queue.close()?.message ?? null;
  process.stdout.write(`stats ${JSON.stringify({ ...stats, ...extra, handlerErrorsSeen: handlerErrors, closeError })}\n`);
  process.exit(0);
});
process.stdout.write('ready\n');
