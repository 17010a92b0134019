// tcp-intercept trace in the lab of issue 12 (client - r1 tracing - r2 - r3 - server), along live
// flows: the hops equal traceroute -T's, the delayed hop shows its delay, the destination is
// reached (IPv4 and IPv6); a transfer traced again and again stays byte-exact and its sender
// retransmits no more; a silent hop is a silent hop; a NAT that leaves the quotes translated is
// flagged; no flow: 75; the rules go, also after a SIGKILL and `rules remove`.
import t from 'tap';
import { TCP_INTERCEPT_BIN } from '../lab/lab.js';
import { checkedTransfer, startBulkFlow, startPeerServer } from '../lab/flows.js';
import { TraceChain, withTraceChain, type Family } from '../lab/trace-chain.js';
import { traceroute } from '../helpers/traceroute.js';
import type { DoneRecord, HopRecord, TraceRecord } from '../../src/trace/trace-records.js';

const DELAY_MS = 20;

interface Traced { code: number | null; hops: HopRecord[]; done: DoneRecord | undefined; stderr: string }

async function trace(chain: TraceChain, dest: string, args: string[] = []): Promise<Traced> {
  const r = await chain.lab.exec(chain.tracer, TCP_INTERCEPT_BIN, ['trace', dest, '--json', '--wait', '10', ...args], { timeoutMs: 60_000 });
  const records = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as TraceRecord);
  return { code: r.code, hops: records.filter((x): x is HopRecord => x.type === 'hop'), done: records.find((x): x is DoneRecord => x.type === 'done'), stderr: r.stderr };
}

async function traceRules(chain: TraceChain): Promise<string> {
  const out = await Promise.all(['iptables', 'ip6tables'].map((tool) => chain.lab.run(chain.tracer, tool, ['-t', 'mangle', '-S'])));
  return out.join('').split('\n').filter((l) => l.includes('tcp-intercept-trace')).join('\n');
}

await withTraceChain('tracelab', 54, async (chain) => {
  const { lab } = chain;
  const delay = await chain.delayHop(1, DELAY_MS);

  for (const family of ['v4', 'v6'] as Family[]) {
    await t.test(`IPv${family[1]}: the hops of traceroute -T, the delay where it is, the destination reached`, async (t) => {
      const flow = await startBulkFlow(lab, { seconds: 30, port: 5201, dest: lab.server[family], direction: 'download', rate: '20M' });
      t.teardown(() => flow.stop());
      const r = await trace(chain, lab.server[family], ['--port', '5201']);
      t.equal(r.code, 0, `exit 0 (reached) ${r.stderr}`);
      t.match(r.done, { reached: true, reason: 'reached', hops: 3, path: 'forward' });
      t.same(r.hops.map((h) => h.address), chain.hops(family), `the hops: ${r.hops.map((h) => h.address).join(' ')}`);
      const rtt = (h: HopRecord): number => Math.min(...h.rttMs);
      t.comment(`min RTT per hop: ${r.hops.map((h) => `${h.ttl}:${rtt(h)} ms`).join(' ')}`);
      t.ok(rtt(r.hops[0]) >= DELAY_MS * 0.9 && rtt(r.hops[0]) < DELAY_MS * 2 * 0.9, `r2 answers across its own delay, one way (${rtt(r.hops[0])} ms)`);
      t.ok(rtt(r.hops[1]) >= DELAY_MS * 2 * 0.9, `r3 beyond it, both ways (${rtt(r.hops[1])} ms)`);
      t.equal(r.hops[2].kind, 'destination');
      t.ok(r.hops.slice(0, 2).every((h) => h.answered === h.sent && h.lossPct === 0 && h.quotedTtl === 1), 'every probe to a router answered, quoted with TTL 1');
      const hops = await traceroute(lab, chain.tracer, lab.server[family], { port: 5201, maxTtl: 6 });
      t.same(r.hops.map((h) => h.address), hops.map((h) => h.address), `traceroute -T finds the same: ${hops.map((h) => h.address).join(' ')}`);
      t.equal(await traceRules(chain), '', 'its rules are gone');
    });
  }

  await t.test('a transfer traced again and again stays byte-exact', async (t) => {
    const peer = await startPeerServer(lab, 7001);
    t.teardown(() => { peer.kill('SIGKILL'); });
    const transfer = checkedTransfer(lab, peer, { dest: lab.server.v4, port: 7001, bytes: '256m', back: '1m' });
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) outcomes.push((await trace(chain, lab.server.v4, ['--port', '7001', '--wait', '5'])).done?.reason ?? 'none');
    const done = await transfer;
    t.ok(done.ok, `256 MiB up and 1 MiB back, sha256 equal at both ends, with ${outcomes.length} traces along it (${outcomes.join(', ')})`);
    t.ok(outcomes.includes('reached'), 'traced while it ran');
  });

  await t.test('a paced upload retransmits no more while it is traced than while it is not', async (t) => {
    const run = async (traced: boolean): Promise<number> => {
      const flow = await startBulkFlow(lab, { seconds: 8, port: traced ? 5206 : 5202, dest: lab.server.v4, direction: 'upload', rate: '40M' });
      t.teardown(() => flow.stop());
      const outcomes: string[] = [];
      if (traced) for (let i = 0; i < 3; i++) outcomes.push((await trace(chain, lab.server.v4, ['--port', '5206'])).done?.reason ?? 'none');
      const r = await flow.done;
      t.comment(`${traced ? `traced ${outcomes.length} times (${outcomes.join(', ')})` : 'untraced'}: ${(r.bitsPerSecond / 1e6).toFixed(1)} Mbit/s, ${r.retransmits} retransmissions`);
      return r.retransmits;
    };
    const untraced = await run(false);
    const traced = await run(true);
    t.ok(traced <= untraced, `retransmissions: ${traced} traced, ${untraced} untraced`);
  });

  await t.test('a silent hop shows as one, and the destination is still reached', async (t) => {
    const undo = await chain.silentHop(2);
    t.teardown(undo);
    const flow = await startBulkFlow(lab, { seconds: 20, port: 5203, dest: lab.server.v4, direction: 'download', rate: '10M' });
    t.teardown(() => flow.stop());
    const r = await trace(chain, lab.server.v4, ['--port', '5203', '--probe-timeout', '500']);
    t.same(r.hops.map((h) => h.kind), ['router', 'silent', 'destination']);
    t.same([r.hops[1].address, r.hops[1].lossPct], [null, 100]);
    t.equal(r.code, 0);
  });

  await t.test('NAT: a hop that does not translate the quotes is flagged; a conntrack NAT translates them back', async (t) => {
    const traced = async (nat: { undo: () => Promise<void> }, port: number): Promise<Traced> => {
      try {
        const flow = await startBulkFlow(lab, { seconds: 20, port, dest: lab.server.v4, direction: 'download', rate: '10M' });
        try {
          return await trace(chain, lab.server.v4, ['--port', String(port)]);
        } finally {
          await flow.stop();
        }
      } finally {
        await nat.undo();
      }
    };
    const r = await traced(await chain.statelessNatHop(1), 5204);
    t.comment(r.hops.map((h) => `${h.ttl} ${h.address} nat=${h.nat}`).join('; '));
    t.equal(r.code, 0, 'reached through the stateless NAT');
    t.notOk(r.hops[0].nat, 'the NAT router itself answers before it rewrites');
    t.ok(r.hops[1].nat, 'the router beyond it quotes the rewritten source: flagged');
    const m = await traced(await chain.snatHop(1), 5205);
    t.equal(m.code, 0, 'reached through a masquerading (conntrack) NAT');
    t.ok(m.hops.every((h) => !h.nat), 'whose translation of the quotes back leaves nothing to see (docs/TRACE.md)');
  });

  await t.test('no live flow: exit 75 after --wait, nothing left behind; after a SIGKILL, rules remove cleans up', async (t) => {
    const r = await lab.exec(chain.tracer, TCP_INTERCEPT_BIN, ['trace', lab.server.v4, '--wait', '1'], { timeoutMs: 30_000 });
    t.equal(r.code, 75, 'exit 75');
    t.match(r.stderr, /no live TCP flow to .* within 1 s/);
    t.equal(await traceRules(chain), '', 'no rule left');
    const killed = lab.spawn(chain.tracer, TCP_INTERCEPT_BIN, ['trace', lab.server.v4, '--wait', '60']);
    for (let i = 0; i < 100 && (await traceRules(chain)) === ''; i++) await new Promise((res) => setTimeout(res, 100));
    t.not(await traceRules(chain), '', 'its rules are in while it waits');
    killed.kill('SIGKILL');
    await killed.exited;
    t.not(await traceRules(chain), '', 'a SIGKILL leaves them');
    const removed = await lab.exec(chain.tracer, TCP_INTERCEPT_BIN, ['rules', 'remove']);
    t.equal(removed.code, 0, `rules remove: ${removed.stderr}`);
    t.equal(await traceRules(chain), '', 'rules remove takes them out');
  });

  await t.test('bad input: a clear error, exit 64', async (t) => {
    for (const args of [['trace'], ['trace', 'example.org'], ['trace', '10.0.0.1', '--max-ttl', '0'], ['trace', '10.0.0.1', '--probes', 'x'], ['trace', '10.0.0.1', 'extra']]) {
      const r = await lab.exec(chain.tracer, TCP_INTERCEPT_BIN, args);
      t.equal(r.code, 64, `${args.join(' ')}: ${r.stderr.trim()}`);
    }
  });
  await delay.stop();
});
