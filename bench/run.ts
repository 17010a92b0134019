// `npm run bench`: every figure for plain forwarding, tcp-intercept and HAProxy through the same
// router, in one run, rounds interleaved. Knobs: BENCH_ROUNDS (3), BENCH_SECONDS (5),
// BENCH_IDLE (9000 idle connections), BENCH_RESULTS (bench/results).
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Lab, type LabProcess } from '../test/lab/lab.js';
import { connRate, cpuSeconds, establishedCount, fdCount, iperf, pingPong, rssBytes, sleep, TCPBENCH } from './measure.js';
import { markdown, writeResults, type Row } from './report.js';
import { HAPROXY_MAXCONN, haproxyInstalled, PORT_BASE, startHaproxy, startTcpIntercept, type SubjectName } from './subjects.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const IDLE = Number(process.env.BENCH_IDLE ?? 9000);
const CONCURRENCY = 50;
const PINGS = 20_000;
const RESULTS = process.env.BENCH_RESULTS ?? fileURLToPath(new URL('../../bench/results', import.meta.url));

// Server port offsets inside each subject's range.
const BULK = 1, CONN = 3, PING = 4, IDLE_PORT = 5;

const rows = new Map<string, Row>();
function record(metric: string, unit: string, subject: SubjectName, value: number, compare: Row['compare'], target = ''): void {
  const row = rows.get(metric) ?? { metric, unit, values: {}, compare, target };
  (row.values[subject] ??= []).push(value);
  rows.set(metric, row);
}

async function setup(): Promise<Lab> {
  const lab = await Lab.create({ tag: 'bench', id: 50 });
  const tuning = 'sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535" net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535';
  for (const host of ['client', 'router', 'server']) await lab.run(host, 'sh', ['-c', tuning]);
  await lab.intercept({ diverts: [{ ports: ['21000-21999'], port: 5000 }, { ports: ['22000-22999'], port: 5001 }] });
  for (const base of Object.values(PORT_BASE)) {
    lab.spawn('server', 'iperf3', ['-s', '-p', String(base + BULK)]);
    for (const off of [CONN, PING, IDLE_PORT]) lab.spawn('server', 'sh', ['-c', `ulimit -n 20000 && exec ${TCPBENCH} server ${base + off}`]);
    await lab.waitForListen('server', base + IDLE_PORT);
    await lab.waitForListen('server', base + BULK);
  }
  return lab;
}

async function bulk(lab: Lab, subjects: SubjectName[], procs: Partial<Record<SubjectName, LabProcess>>, streams: number): Promise<void> {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const subject of subjects) {
      for (const reverse of [false, true]) {
        const pid = procs[subject]?.child.pid;
        const cpu0 = pid ? cpuSeconds(pid) : 0;
        const r = await iperf(lab, PORT_BASE[subject] + BULK, { streams, reverse, seconds: SECONDS });
        const dir = reverse ? 'server->client' : 'client->server';
        const target = streams === 1 ? '>= 0.90' : '>= 0.80 (--workers auto)';
        record(`bulk ${streams} stream${streams > 1 ? 's' : ''} ${dir}`, 'Gbit/s', subject, r.bitsPerSecond / 1e9, 'ratio', target);
        if (pid && streams === 1) record(`CPU per GB relayed, 1 stream ${dir}`, 'CPU-s/GB', subject, (cpuSeconds(pid) - cpu0) / (r.bytes / 1e9), null, '<= 0.45');
        console.log(`  round ${round} ${subject} ${streams}x ${dir}: ${(r.bitsPerSecond / 1e9).toFixed(2)} Gbit/s`);
      }
    }
  }
}

async function shortConnections(lab: Lab, subjects: SubjectName[]): Promise<void> {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const subject of subjects) {
      const r = await connRate(lab, PORT_BASE[subject] + CONN, CONCURRENCY, SECONDS);
      record(`connections/s (100 B request and reply, ${CONCURRENCY} at a time)`, 'conn/s', subject, r.rate, 'ratio', '>= 0.60');
      record('connection latency p50', 'us', subject, r.p50Us, 'added', '');
      record('connection latency p99', 'us', subject, r.p99Us, 'added', '');
      record('failed connections', 'count', subject, r.failures, null, '0');
      console.log(`  round ${round} ${subject}: ${r.rate.toFixed(0)} conn/s, p50 ${r.p50Us} us, p99 ${r.p99Us} us, ${r.failures} failed`);
      await sleep(1000);
    }
  }
}

async function roundTrips(lab: Lab, subjects: SubjectName[]): Promise<void> {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const subject of subjects) {
      const r = await pingPong(lab, PORT_BASE[subject] + PING, PINGS);
      record('1-byte round trip p50', 'us', subject, r.p50Us, 'added', '<= +30 us');
      record('1-byte round trip p99', 'us', subject, r.p99Us, 'added', '');
      console.log(`  round ${round} ${subject}: p50 ${r.p50Us} us, p99 ${r.p99Us} us`);
    }
  }
}

async function idleCost(lab: Lab, subject: SubjectName, proc: LabProcess, count: number): Promise<void> {
  const pid = proc.child.pid ?? 0;
  await sleep(500);
  const rss0 = rssBytes(pid), fd0 = fdCount(pid);
  const base = await establishedCount(lab, 'router');
  const hold = lab.spawn('client', 'sh', ['-c', `ulimit -n 20000 && exec ${TCPBENCH} hold ${lab.server.v4} ${PORT_BASE[subject] + IDLE_PORT} ${count}`]);
  const m = await hold.waitForOutput(/"held":(\d+),"failures":(\d+)/, 120_000);
  for (let i = 0; i < 100 && (await establishedCount(lab, 'router')) < base + 2 * count; i++) await sleep(100);
  await sleep(1000);
  const rss = (rssBytes(pid) - rss0) / count, fds = (fdCount(pid) - fd0) / count;
  record('idle cost: RSS per held connection', 'bytes', subject, rss, null, `<= 2048 (${count} held)`);
  record('idle cost: fds per held connection', 'fds', subject, fds, null, `2 (${count} held)`);
  console.log(`  ${subject}: ${m[1]} held (${m[2]} failed), ${rss.toFixed(0)} B RSS and ${fds.toFixed(2)} fds per connection`);
  hold.kill('SIGKILL');
  await hold.exited;
  for (let i = 0; i < 100 && (await establishedCount(lab, 'router')) > base; i++) await sleep(100);
}

async function main(): Promise<void> {
  const withHaproxy = haproxyInstalled();
  const subjects: SubjectName[] = ['plain', 'tcp-intercept', ...(withHaproxy ? ['haproxy' as const] : [])];
  console.log(`tcp-intercept benchmarks: ${ROUNDS} rounds, ${SECONDS} s each, subjects: ${subjects.join(', ')}`);
  const lab = await setup();
  try {
    // One worker (and one HAProxy thread) for everything but the 4-stream runs.
    let procs: Partial<Record<SubjectName, LabProcess>> = { 'tcp-intercept': await startTcpIntercept(lab) };
    if (withHaproxy) procs.haproxy = await startHaproxy(lab, 1);
    console.log('bulk throughput, 1 stream (iperf3)');
    await bulk(lab, subjects, procs, 1);
    console.log(`short connections (${CONCURRENCY} at a time)`);
    await shortConnections(lab, subjects);
    console.log('1-byte ping-pong on one connection');
    await roundTrips(lab, subjects);
    console.log(`idle connections (${IDLE})`);
    for (const s of subjects) {
      const proc = procs[s];
      if (proc) await idleCost(lab, s, proc, s === 'haproxy' ? Math.min(IDLE, HAPROXY_MAXCONN - 400) : IDLE);
    }
    for (const p of Object.values(procs)) {
      p.kill('SIGTERM');
      await p.exited;
    }

    const cpus = availableParallelism();
    procs = { 'tcp-intercept': await startTcpIntercept(lab, ['--workers', 'auto']) };
    if (withHaproxy) procs.haproxy = await startHaproxy(lab, cpus);
    console.log(`bulk throughput, 4 streams (tcp-intercept --workers auto = ${cpus}, HAProxy nbthread ${cpus})`);
    await sleep(1000);
    await bulk(lab, subjects, procs, 4);
  } finally {
    await lab.destroy();
  }
  const header = [
    '# tcp-intercept benchmark results',
    '',
    `${new Date().toISOString()}, ${availableParallelism()} CPUs, Node.js ${process.version}; ${ROUNDS} rounds of ${SECONDS} s, interleaved.`,
    'Client, router and server are network namespaces on one machine joined by veth; "plain" is the router forwarding without a proxy.',
    'tcp-intercept runs with --log-level warn; HAProxy 2.6 in transparent splice mode (`usesrc clientip`, `option splice-auto`).',
  ];
  writeResults(RESULTS, [...rows.values()], header, { rounds: ROUNDS, seconds: SECONDS, idle: IDLE, date: new Date().toISOString() });
  console.log('\n' + markdown([...rows.values()], header));
  console.log(`written to ${RESULTS}/latest.md, latest.svg and a results-*.json`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
