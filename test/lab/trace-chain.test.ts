// The trace lab itself (test/lab/trace-chain.ts, test/lab/flows.ts), checked with the reference
// traceroute (traceroute -T) from the tracing router: the hops in order, a delayed hop's RTT, a
// silent hop's `*`, a translating hop's address at the server, and the flows' own checks.
import t from 'tap';
import { Lab } from './lab.js';
import { checkedTransfer, startBulkFlow, startPeerServer } from './flows.js';
import { ROUTERS, TraceChain } from './trace-chain.js';
import { traceroute, tracerouteMissing } from '../helpers/traceroute.js';

const lab = await Lab.create({ tag: 'tchain', id: 53, routers: ROUTERS });
t.teardown(() => lab.destroy());
const chain = new TraceChain(lab);
const missing = tracerouteMissing();
const PORT = 7009;
const DELAY_MS = 25;
const families = ['v4', 'v6'] as const;

t.test('the hops after the tracer, in order', { skip: missing }, async (t) => {
  for (const family of families) {
    const hops = await traceroute(lab, chain.tracer, lab.server[family], { port: PORT });
    t.same(hops.map((h) => h.address), chain.hops(family), `IPv${family[1]}: r2, r3, the server`);
    t.same(hops.map((h) => h.ttl), [1, 2, 3]);
  }
  const fromClient = await traceroute(lab, 'client', lab.server.v4, { port: PORT });
  t.same(fromClient.map((h) => h.address), chain.hops('v4', -1), 'from the client: the tracer first');
});

t.test('a delayed hop', { skip: missing }, async (t) => {
  const delay = await chain.delayHop(1, DELAY_MS);
  t.teardown(() => delay.stop());
  for (const family of families) {
    const [r2, r3, server] = await traceroute(lab, chain.tracer, lab.server[family], { port: PORT });
    t.ok((r2.rttMs ?? 0) >= DELAY_MS, `IPv${family[1]}: r2's answer leaves through its delay: ${r2.rttMs} ms`);
    t.ok((r2.rttMs ?? Infinity) < 2 * DELAY_MS, 'once');
    for (const hop of [r3, server]) t.ok((hop.rttMs ?? 0) >= 2 * DELAY_MS, `${hop.address}: through it both ways: ${hop.rttMs} ms`);
  }
});

t.test('a silent hop', { skip: missing }, async (t) => {
  const undo = await chain.silentHop(2);
  for (const family of families) {
    const hops = await traceroute(lab, chain.tracer, lab.server[family], { port: PORT, waitSeconds: 1 });
    const [r2, , server] = chain.hops(family);
    t.same(hops.map((h) => h.address), [r2, null, server], `IPv${family[1]}: r3 answers nothing`);
  }
  await undo();
  const hops = await traceroute(lab, chain.tracer, lab.server.v4, { port: PORT });
  t.same(hops.map((h) => h.address), chain.hops('v4'), 'undone: r3 answers again');
});

t.test('a translating hop, and byte-exact transfers through it', async (t) => {
  const server = await startPeerServer(lab, 7010);
  const { translated, undo } = await chain.snatHop(1);
  for (const family of families) {
    const r = await checkedTransfer(lab, server, { dest: lab.server[family], port: 7010, bytes: '256k' });
    t.ok(r.ok, `IPv${family[1]}: whole both ways ${r.problem}`);
    t.equal(r.remote, translated[family], `IPv${family[1]}: the server sees r2's address`);
  }
  await undo();
  const r = await checkedTransfer(lab, server, { dest: lab.server.v4, port: 7010, bytes: '64k' });
  t.equal(r.remote, lab.client.v4, 'undone: the server sees the client again');
});

t.test('a long-lived flow', async (t) => {
  for (const direction of ['download', 'upload'] as const) {
    const flow = await startBulkFlow(lab, { seconds: 2, port: 5201, dest: lab.server.v4, direction });
    const r = await flow.done;
    t.ok(r.bitsPerSecond > 1e6, `${direction}: ${(r.bitsPerSecond / 1e6).toFixed(0)} Mbit/s`);
    t.ok(Number.isInteger(r.retransmits) && r.retransmits >= 0, `${direction}: the sender's retransmissions are counted (${r.retransmits})`);
  }
  const stopped = await startBulkFlow(lab, { seconds: 60, port: 5202, dest: lab.server.v6, direction: 'download' });
  await stopped.stop();
  await t.rejects(stopped.done, /iperf3 flow ended with SIGKILL/, 'stop ends it at once');
  t.equal((await lab.run('server', 'ss', ['-Hltn', 'sport', '=', ':5202'])).trim(), '', 'and its server');
});
