// The queue process of bench/nfq.ts: binds NFQUEUE queue 0 in its network namespace with the
// options given as JSON on the command line and a handler that decides nothing, so every packet
// is accepted through the fallback with batch verdicts. With `stages`, the packets go through
// the packet pipeline instead: that many stages that decide nothing ('pass'), the first of
// which parses each packet ('parse'). Prints "ready" once bound; on SIGTERM (or SIGINT) prints
// its stats as one line `stats {json}`, closes the queue and exits.
import { Registry } from 'prom-client';
import { createLogger } from '../src/log/logger.js';
import { PacketQueue, type PacketQueueStats, type QueueOptions } from '../src/nfq/queue.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import type { PacketStage } from '../src/pipeline/stage.js';
import type { StagePacket } from '../src/pipeline/stage-packet.js';

type Options = Omit<QueueOptions, 'queue' | 'onHandlerError'> & { stages?: { count: number; parse: boolean } };
const { stages, ...options } = JSON.parse(process.argv[2] ?? '{}') as Options;

function passStage(name: string, parse: boolean): PacketStage {
  let parsed = 0;
  return {
    name,
    describe: () => (parse ? 'parses, decides nothing' : 'decides nothing'),
    onPacket: (p: StagePacket) => {
      if (parse && p.parse() !== null) parsed++;
    },
    close: () => undefined,
    report: () => [`${name}: ${parsed} parsed`],
  };
}

let stats: () => PacketQueueStats;
let close: () => void;
if (stages) {
  const list = Array.from({ length: stages.count }, (_, i) => passStage(`pass${i}`, stages.parse && i === 0));
  const { logger } = createLogger({ file: null, level: 'warn', format: 'text', worker: null, journal: false });
  const pipeline = new Pipeline(list, { queue: 0, ...options }, { logger, registry: new Registry(), injectionMark: 0 });
  stats = () => pipeline.stats();
  close = () => pipeline.close();
} else {
  const queue = new PacketQueue({ queue: 0, ...options }, () => undefined);
  stats = () => queue.stats();
  close = () => queue.close();
}

function finish(): void {
  const s = stats();
  close();
  process.stdout.write(`stats ${JSON.stringify(s)}\n`, () => process.exit(0));
}
process.once('SIGTERM', finish);
process.once('SIGINT', finish);
process.stdout.write('ready\n');
