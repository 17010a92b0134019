// Trace in the service, beside snoop, on one queue in one process: `tcp-intercept trace` asks the
// service over its control socket instead of binding a queue of its own (it could not: the
// service holds the queue it names), --trace traces the configured destination by itself and
// writes --trace-log, the metrics count probes and traces, and stopping removes trace's rules.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { TCP_INTERCEPT_BIN } from '../lab/lab.js';
import { startBulkFlow } from '../lab/flows.js';
import { withTraceChain } from '../lab/trace-chain.js';
import type { DoneRecord, HopRecord, TraceRecord } from '../../src/trace/trace-records.js';

const QUEUE = 16;
const METRICS = '127.0.0.1:9478';
const dir = mkdtempSync(join(tmpdir(), 'ti-trace-service-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await withTraceChain('tracesvc', 55, async (chain) => {
  const { lab } = chain;
  const socket = join(dir, 'control.sock');
  const log = join(dir, 'trace.jsonl');
  const serverSide = lab.links[1].left.ifname;
  const service = lab.spawn(chain.tracer, TCP_INTERCEPT_BIN, [
    '-b', '', '--snoop-interface', serverSide, '--trace', '--trace-destination', lab.server.v4, '--trace-interval', '3600',
    '--trace-log', log, '--control-socket', socket, '--queue', String(QUEUE), '--metrics', METRICS, '--log-format', 'json',
  ]);
  await service.waitForOutput(/control socket/);
  const flow = await startBulkFlow(lab, { seconds: 30, port: 5210, dest: lab.server.v4, direction: 'download', rate: '20M' });
  const metric = async (name: string): Promise<number> => {
    const text = await lab.run(chain.tracer, 'curl', ['-sf', `http://${METRICS}/metrics`]);
    return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  };

  await t.test('tcp-intercept trace: the service traces on its queue, the same output', async (t) => {
    const before = await metric('tcp_intercept_trace_probes_total');
    const r = await lab.exec(chain.tracer, TCP_INTERCEPT_BIN, ['trace', lab.server.v4, '--port', '5210', '--json', '--queue', String(QUEUE), '--control-socket', socket], { timeoutMs: 60_000 });
    t.equal(r.code, 0, `exit 0, though the service holds queue ${QUEUE}: it did not bind it ${r.stderr}`);
    const records = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as TraceRecord);
    const hops = records.filter((x): x is HopRecord => x.type === 'hop');
    const done = records.find((x): x is DoneRecord => x.type === 'done');
    t.same(hops.map((h) => h.address), chain.hops('v4'), 'the hops');
    t.match(done, { reached: true, reason: 'reached', path: 'forward' });
    const after = await metric('tcp_intercept_trace_probes_total');
    t.ok(after - before >= (done?.probes ?? 1), `the service sent the probes (${after - before} more)`);
  });

  await t.test('--trace: the configured destination traced by itself, to --trace-log', async (t) => {
    let lines: TraceRecord[] = [];
    for (let i = 0; i < 100 && !lines.some((l) => l.type === 'done' && l.reached); i++) {
      await sleep(200);
      try {
        lines = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as TraceRecord);
      } catch { /* not written yet */ }
    }
    const done = lines.find((l): l is DoneRecord => l.type === 'done' && l.reached);
    t.ok(done, `a trace in the log reached ${lab.server.v4}`);
    t.same(lines.filter((l): l is HopRecord => l.type === 'hop').slice(0, 3).map((h) => h.address), chain.hops('v4'));
    t.ok(await metric('tcp_intercept_traces_total{result="reached"}') >= 2, 'the metrics count both traces');
  });

  await t.test('snoop and trace: two stages of one pipeline on one queue', async (t) => {
    const text = await lab.run(chain.tracer, 'curl', ['-sf', `http://${METRICS}/metrics`]);
    t.match(text, /^tcp_intercept_stage_decisions_total\{stage="snoop",decision="accept"\}/m, 'snoop is a stage');
    t.match(text, /^tcp_intercept_stage_decisions_total\{stage="trace",decision="drop"\} [1-9]/m, 'trace is one, and dropped the answers');
    const queues = await lab.run(chain.tracer, 'cat', ['/proc/net/netfilter/nfnetlink_queue']);
    t.equal(queues.trim().split('\n').filter(Boolean).length, 1, `one queue bound in the router:\n${queues}`);
  });

  await t.test('stopped: trace\'s rules go with the service', async (t) => {
    await flow.stop();
    service.kill('SIGTERM');
    const { code } = await service.exited;
    t.equal(code, 0, 'the service stops cleanly');
    const rules = (await lab.run(chain.tracer, 'iptables', ['-t', 'mangle', '-S'])).split('\n').filter((l) => l.includes('tcp-intercept-trace'));
    t.same(rules, [], "no rule of trace's set is left");
  });
});
