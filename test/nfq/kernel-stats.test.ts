import t from 'tap';
import { parseKernelQueueStats, sumKernelQueueStats } from '../../src/nfq/kernel-stats.js';

// /proc/net/netfilter/nfnetlink_queue: queue, port id, waiting, copy mode, copy range,
// queue-full drops, socket-full drops, last id, 1
const TEXT = `    4   1234     2 2 65535     7     1    900 1
    5   1234     0 2 65535     0     3    120 1
   12   5678     9 2  4096     0     0     50 1
`;

t.test('every line becomes one queue\'s counters', async (t) => {
  const all = parseKernelQueueStats(TEXT);
  t.equal(all.length, 3);
  t.same(all[0], { queue: 4, portId: 1234, waiting: 2, copyRange: 65535, queueDropped: 7, userDropped: 1, lastId: 900 });
  t.same(parseKernelQueueStats('garbage\n\n1 2 3\n'), [], 'lines that are not counters are skipped');
});

t.test('a range adds up its queues', async (t) => {
  const range = parseKernelQueueStats(TEXT).filter((q) => q.queue >= 4 && q.queue <= 7);
  const sum = sumKernelQueueStats(range);
  t.match(sum, { waiting: 2, queueDropped: 7, userDropped: 4 });
  t.equal(sum?.queues.length, 2);
  t.equal(sumKernelQueueStats([]), null, 'null when none is bound');
});
