// The queue process of bench/nfq.ts: binds NFQUEUE queue 0 in its network namespace with the
// options given as JSON on the command line and a handler that decides nothing, so every packet
// is accepted through the fallback with batch verdicts. Prints "ready" once bound; on SIGTERM
// (or SIGINT) prints its stats as one line `stats {json}`, closes the queue and exits.
import { PacketQueue, type QueueOptions } from '../src/nfq/queue.js';

const options = JSON.parse(process.argv[2] ?? '{}') as Omit<QueueOptions, 'queue' | 'onHandlerError'> & { queue?: number };
const queue = new PacketQueue({ queue: 0, ...options }, () => undefined);

function finish(): void {
  const stats = queue.stats();
  queue.close();
  process.stdout.write(`stats ${JSON.stringify(stats)}\n`, () => process.exit(0));
}
process.once('SIGTERM', finish);
process.once('SIGINT', finish);
process.stdout.write('ready\n');
