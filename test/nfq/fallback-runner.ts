// Runs inside a lab namespace for fallback.test.ts: binds queue 0 with the options on the command
// line and one of two handlers, prints "ready", and on SIGTERM prints its stats and exits.
//   undecided  the handler looks at every packet and decides none (the fallback decides)
//   hold       every packet is held and never released (the kernel's queue fills up)
import { PacketQueue, type QueueOptions } from '../../src/nfq/queue.js';
import type { PacketBatch } from '../../src/nfq/batch.js';

const [mode, optionsJson = '{}'] = process.argv.slice(2);
const options = JSON.parse(optionsJson) as Partial<QueueOptions>;
let seen = 0;
const held: number[] = [];

const handlers: Record<string, (b: PacketBatch) => void> = {
  undecided: (b) => {
    for (let i = 0; i < b.length; i++) if (b.packet(i).length > 0) seen++;
  },
  hold: (b) => {
    for (let i = 0; i < b.length; i++) {
      seen++;
      held.push(b.hold(i));
    }
  },
};

const handler = handlers[mode];
if (!handler) throw new Error(`unknown mode ${mode}`);
const queue = new PacketQueue({ queue: 0, ...options }, handler);
process.on('SIGTERM', () => {
  const stats = queue.stats();
  queue.close();
  process.stdout.write(`stats ${JSON.stringify({ ...stats, seen, heldByUs: held.length })}\n`);
  process.exit(0);
});
process.stdout.write('ready\n');
