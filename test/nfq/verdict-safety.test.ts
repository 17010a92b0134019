// A packet gets exactly one verdict: a second decision in its batch, or a verdict for a packet
// that is not held, is refused at once and never reaches the kernel.
import t, { type Test } from 'tap';
import { Lab } from '../lab/lab.js';
import { parsePing } from '../helpers/ping.js';
import { checkBookkeeping, queueRules, withQueue, type RunnerStats } from './queue-lab.js';

const lab = await Lab.create({ tag: 'nfqsafe', id: 21 });
t.teardown(() => lab.destroy());

const OVERSIZE = 'RangeError: queue.acceptInBatch: a replacement packet must be N..N bytes (got N): it travels in a netlink attribute whose N-bit length counts its N-byte header';

/** Five pings forwarded through the router's ICMP queue while a runner in <mode> serves it. */
async function fivePings(t: Test, mode: string): Promise<{ ping: string; stats: RunnerStats }> {
  await queueRules(lab, '-A', ['icmp']);
  t.teardown(() => queueRules(lab, '-D', ['icmp']));
  let ping = '';
  const stats = await withQueue(lab, mode, {}, async () => {
    ping = (await lab.exec('client', 'ping', ['-c', '5', '-i', '0.05', '-W', '1', lab.server.v4])).stdout;
  });
  return { ping, stats };
}

t.test('a second decision in a batch throws, and the first stands', async (t) => {
  const { ping, stats } = await fivePings(t, 'decide-twice');
  t.equal(parsePing(ping).received, 5, 'every request was accepted (the later drop did not take)');
  t.equal(stats.notRefused, 0, 'no second decision was let through');
  t.same(stats.refusals, {
    [OVERSIZE]: stats.packets,
    'Error: packet N of the batch is already decided (accept); a packet gets one verdict': 3 * stats.packets,
  }, `refusals: ${JSON.stringify(stats.refusals)}`);
  t.equal(stats.dropped, 0, 'no drop');
  t.equal(stats.replaced, 0, 'no replacement');
  checkBookkeeping(t, stats);
});

t.test('a verdict for a ref not held is refused at once; the kernel sees no bad verdict', async (t) => {
  const { ping, stats } = await fivePings(t, 'release-misuse');
  t.equal(parsePing(ping).received, 5, 'every held request was released once, as an accept');
  t.equal(stats.notRefused, 0, 'no wrong verdict was let through');
  t.same(stats.refusals, {
    'Error: queue.verdict: packet N (queue N, id N) is held in the current batch, which is not settled yet: release it once the batch handler has returned': stats.packets,
    [OVERSIZE.replace('acceptInBatch', 'verdict')]: stats.packets,
    'Error: queue.verdict: packet N (queue N, id N) is not held (never held, or already released)': 2 * stats.packets,
  }, `refusals: ${JSON.stringify(stats.refusals)}`);
  t.equal(stats.dropped, 0, 'the refused drops did not take');
  checkBookkeeping(t, stats);
});
