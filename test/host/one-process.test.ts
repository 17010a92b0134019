// The service's host with the proxy and a packet pipeline of three stages, in one process on one
// queue (test/host/host-runner.ts): the proxy relays, the first stage decides what it owns and
// leaves the rest, a second decision and a verdict for a ref not held are refused at once, held
// packets leave when their deadline comes, and a flow table lets idle flows go. One metrics
// endpoint shows the proxy and the pipeline.
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Lab } from '../lab/lab.js';
import { ProxyLab } from '../helpers/proxy-lab.js';
import { parsePing } from '../helpers/ping.js';
import { streamSha256 } from '../lab/stream.js';
import { INJECTION_MARK } from '../../src/config/marks.js';

const RUNNER = fileURLToPath(new URL('./host-runner.ts', import.meta.url));
const QUEUE = 30;
const lab = await Lab.create({ tag: 'host', id: 30 });
t.teardown(() => lab.destroy());

// TCP to 7001 is intercepted by the proxy; forwarded TCP (to 7002) goes through the queue by the
// shipped packet rules, and so do echo requests and replies by a rule of this test's own.
await lab.intercept({ diverts: [{ ports: ['7001'], port: 5000 }] });
await lab.queue({ queue: QUEUE, forwardInterfaces: [lab.clientIf], icmpRelated: true, injectionMark: INJECTION_MARK });
for (const tool of ['iptables', 'ip6tables']) {
  await lab.run('router', tool, ['-A', 'FORWARD', '-p', tool === 'iptables' ? 'icmp' : 'ipv6-icmp', '-j', 'NFQUEUE', '--queue-num', String(QUEUE), '--queue-bypass']);
}

const env = new ProxyLab(lab);
const runner = lab.spawn('router', process.execPath, [...process.execArgv, RUNNER, String(QUEUE)]);
t.teardown(async () => {
  runner.kill('SIGKILL');
  await runner.exited;
});
await Promise.race([
  runner.waitForOutput(/"listening on \[::\]:5000.*; queue 30: drop-odd/, 30_000),
  runner.exited.then(() => {
    throw new Error(`host runner exited at startup:\n${runner.output()}`);
  }),
]);
env.proxy = runner;

t.test('the proxy relays while the pipeline runs beside it', async (t) => {
  await env.serve(7001);
  const r = await env.xfer(lab.server.v4, 7001, ['--bytes', '4m', '--back', '4m', '--seed', '7']);
  t.equal(r.ok, 1, 'transfer ok');
  t.equal(r.results?.[0]?.receivedSha256, streamSha256(7 + 1_000_000, 4 << 20), 'reply byte-exact');
  const closes = await env.waitForCloses(1);
  t.match(String(closes[0].message), /-> 198\.18\.\d+\.2:7001 eof/, 'the proxy carried it (its close line)');
});

t.test('two stages on one queue: one decides, the next sees only what is left', async (t) => {
  const ping = parsePing((await lab.exec('client', 'ping', ['-c', '10', '-i', '0.05', '-W', '1', lab.server.v4])).stdout);
  t.equal(ping.received, 5, 'the 5 even echo requests were answered, the odd ones dropped (sequence 3 once, not re-accepted)');
});

t.test('held packets leave on their deadline', async (t) => {
  const ping = parsePing((await lab.exec('client', 'ping', ['-6', '-c', '10', '-i', '0.1', '-W', '2', lab.server.v6])).stdout);
  t.equal(ping.received, 10, 'every held request was released');
  t.ok(ping.min >= 59, `each waited its ${60} ms (min RTT ${ping.min} ms)`);
});

t.test('a forwarded TCP flow is tracked both ways and expires when idle', async (t) => {
  await env.serve(7002);
  const r = await env.xfer(lab.server.v4, 7002, ['--bytes', '256k', '--back', '256k']);
  t.equal(r.ok, 1, 'forwarded transfer ok');
  await new Promise((resolve) => setTimeout(resolve, 800));
});

t.test('one metrics endpoint: proxy and pipeline', async (t) => {
  const text = await lab.run('router', 'curl', ['-sf', 'http://127.0.0.1:5099/metrics']);
  t.match(text, /^tcp_intercept_connections_total\{result="completed"\} [1-9]/m, 'the proxy counts its connections');
  t.match(text, /^tcp_intercept_stage_decisions_total\{stage="drop-odd",decision="drop"\} 5$/m, 'drop-odd dropped 5');
  t.match(text, /^tcp_intercept_stage_decisions_total\{stage="delay",decision="hold"\} 10$/m, 'delay held 10');
  t.match(text, /^tcp_intercept_stage_errors_total\{stage="drop-odd"\} 0$/m, 'a refused second decision is no stage error');
  t.match(text, /^tcp_intercept_queue_errors_total\{kind="verdict"\} 0$/m, 'the kernel refused no verdict');
  t.match(text, /^tcp_intercept_timer_lateness_seconds_count\{stage="delay"\} 10$/m, 'the delay stage\'s timer lateness is exported');
  t.match(text, /^tcp_intercept_timer_lateness_seconds_bucket\{stage="delay",le="\+Inf"\} 10$/m, 'as a histogram');
});

t.test('stopping reports what each stage saw', async (t) => {
  runner.kill('SIGTERM');
  t.equal((await runner.exited).code, 0, 'exit 0');
  const stage = (name: string): Record<string, number> => {
    const m = new RegExp(`^stage ${name} (.*)$`, 'm').exec(runner.stdout());
    return m ? (JSON.parse(m[1]) as Record<string, number>) : {};
  };
  t.same(stage('drop-odd'), { dropped: 5, secondDecisionRefused: 1 }, 'a second decision was refused');
  const delay = stage('delay');
  t.equal(delay.released, 10, 'released by deadline');
  t.equal(delay.secondReleaseRefused, 10, 'every second release of a ref no longer held was refused');
  const flows = stage('flows') as unknown as { packets: number; created: number; evicted: number; size: number; directions: number[] };
  t.equal(flows.created, 1, 'one flow for both directions');
  t.ok(flows.directions[0] > 0 && flows.directions[1] > 0, `packets seen both ways (${flows.directions.join('/')})`);
  t.equal(flows.evicted, 1, 'the idle flow expired');
  t.equal(flows.size, 0, 'nothing left in the table');
});
