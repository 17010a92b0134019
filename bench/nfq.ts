// `npm run bench:nfq`: the NFQUEUE accept path against plain forwarding in the same run.
//
// client -> router -> server (lab 'bnfq', id 51); in the router `FORWARD -p tcp -j NFQUEUE
// --queue-num 0` queues both the data and the ACK direction to a queue process
// (bench/nfq-accept.ts) that accepts everything with batch verdicts. One iperf3 stream each way
// per configuration, configurations interleaved within each round:
//   no queue                 plain forwarding, the rule absent
//   queue                    whole packets (copy 65535), maxlen 4096, 8 MiB rcvbuf, 64 per receive
//   queue, F_GSO             the same with NFQA_CFG_F_GSO: GSO packets whole
//   queue, batch 1           no F_GSO, one packet per receive (what batching buys)
//   pipeline, 2 stages       as "queue", through the packet pipeline: two stages that decide nothing
//   pipeline, parsed         the same, the first stage parsing every packet (IP and TCP headers)
// Knobs: BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_RESULTS (bench/results; writes nfq-latest.md).
// Teardown: the rule lives in the router namespace, which lab.destroy() deletes (the Lab's own
// SIGINT/SIGTERM handlers do it synchronously); nothing is added to the root namespace.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Lab } from '../test/lab/lab.js';
import type { PacketQueueStats } from '../src/nfq/queue.js';
import { cpuSeconds, iperf as measureIperf, type Bulk } from './measure.js';
import { median } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RESULTS = process.env.BENCH_RESULTS ?? fileURLToPath(new URL('../../bench/results', import.meta.url));
const PORT = 5201;
const ACCEPT = fileURLToPath(new URL(`./nfq-accept${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

// The reference C per-packet loop (docs: nfqueue.md 5.4) and the targets.
const TARGET_PPS = 59_000;
const TARGET_GBPS_PLAIN = 0.55;
const TARGET_GBPS_GSO = 5;

interface Config {
  name: string;
  /** PacketQueue options of the queue process; null: no queue */
  queue: { gso: boolean; batch: number; maxLen: number; rcvbuf: number; stages?: { count: number; parse: boolean } } | null;
}

const QUEUE = { maxLen: 4096, rcvbuf: 8 << 20 };
const CONFIGS: Config[] = [
  { name: 'no queue', queue: null },
  { name: 'queue', queue: { gso: false, batch: 64, ...QUEUE } },
  { name: 'queue, F_GSO', queue: { gso: true, batch: 64, ...QUEUE } },
  { name: 'queue, batch 1', queue: { gso: false, batch: 1, ...QUEUE } },
  { name: 'pipeline, 2 stages', queue: { gso: false, batch: 64, ...QUEUE, stages: { count: 2, parse: false } } },
  { name: 'pipeline, parsed', queue: { gso: false, batch: 64, ...QUEUE, stages: { count: 2, parse: true } } },
];
const DIRECTIONS = [{ name: 'client->server', reverse: false }, { name: 'server->client', reverse: true }];

interface Sample {
  gbps: number;
  retransmits: number;
  /** the rest only for queued configurations */
  pps?: number;
  meanBytes?: number;
  perReceive?: number;
  cpuPerGB?: number;
  queueDropped?: number;
  userDropped?: number;
  enobufs?: number;
  ratio?: number;
}

function iperf(lab: Lab, reverse: boolean, seconds: number): Promise<Bulk> {
  return measureIperf(lab, PORT, { streams: 1, reverse, seconds });
}

async function queueRule(lab: Lab, action: '-A' | '-D'): Promise<void> {
  await lab.run('router', 'iptables', [action, 'FORWARD', '-p', 'tcp', '-j', 'NFQUEUE', '--queue-num', '0']);
}

async function measure(lab: Lab, config: Config, reverse: boolean): Promise<Sample> {
  if (!config.queue) {
    const r = await iperf(lab, reverse, SECONDS);
    return { gbps: r.bitsPerSecond / 1e9, retransmits: r.retransmits };
  }
  const proc = lab.spawn('router', process.execPath, [...process.execArgv, ACCEPT, JSON.stringify(config.queue)]);
  let r: Bulk, cpu: number;
  try {
    await proc.waitForOutput(/^ready$/m, 20_000);
    const pid = proc.child.pid ?? 0;
    await queueRule(lab, '-A');
    try {
      const cpu0 = cpuSeconds(pid);
      r = await iperf(lab, reverse, SECONDS);
      cpu = cpuSeconds(pid) - cpu0;
    } finally {
      await queueRule(lab, '-D');
    }
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`the queue process exited during the run:\n${proc.output()}`);
  } finally {
    proc.kill('SIGTERM');
    await proc.exited;
  }
  const m = /^stats (.*)$/m.exec(proc.stdout());
  if (!m) throw new Error(`the queue process printed no stats:\n${proc.output()}`);
  const s = JSON.parse(m[1]) as PacketQueueStats;
  return {
    gbps: r.bitsPerSecond / 1e9,
    retransmits: r.retransmits,
    pps: s.packets / r.seconds,
    meanBytes: s.packets ? s.bytes / s.packets : 0,
    perReceive: s.batches ? s.packets / s.batches : 0,
    cpuPerGB: cpu / (r.bytes / 1e9),
    queueDropped: s.kernel?.queueDropped ?? NaN,
    userDropped: s.kernel?.userDropped ?? NaN,
    enobufs: s.enobufs,
  };
}

const samples = new Map<string, Sample[]>();
const key = (config: string, dir: string): string => `${config}|${dir}`;

const fmt = (x: number): string =>
  !Number.isFinite(x) ? '-' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
const fmtK = (x: number): string => (!Number.isFinite(x) ? '-' : `${(x / 1000).toFixed(1)}k`);

function cell(xs: Array<number | undefined>, f = fmt): string {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  if (!v.length) return '-';
  return v.length === 1 ? f(v[0]) : `${f(median(v))} [${f(Math.min(...v))}-${f(Math.max(...v))}]`;
}

const total = (xs: Array<number | undefined>): string => (xs.every((x) => x === undefined) ? '-' : String(xs.reduce<number>((a, x) => a + (x ?? 0), 0)));

/** The target for a row, judged on the medians. */
function target(config: Config, dir: string, ss: Sample[]): string {
  const gbps = median(ss.map((s) => s.gbps));
  const pps = median(ss.map((s) => s.pps ?? 0));
  const verdict = (ok: boolean): string => (ok ? 'met' : '**not met**');
  if (config.name === 'queue') {
    return `>= ${TARGET_PPS / 1000}k pkt/s and >= ${TARGET_GBPS_PLAIN} Gbit/s: ${verdict(pps >= TARGET_PPS && gbps >= TARGET_GBPS_PLAIN)}`;
  }
  if (config.name === 'queue, F_GSO') return `>= ${TARGET_GBPS_GSO} Gbit/s: ${verdict(gbps >= TARGET_GBPS_GSO)}`;
  if (config.queue?.stages) {
    const queue = median((samples.get(key('queue', dir)) ?? []).map((s) => s.pps ?? 0));
    return `>= 0.9 x queue's packets/s (${fmtK(0.9 * queue)}): ${verdict(pps >= 0.9 * queue)}`;
  }
  return '';
}

function table(): string {
  const lines = [
    '# NFQUEUE accept path',
    '',
    `${new Date().toISOString()}, ${availableParallelism()} CPUs, Linux ${release()}, Node.js ${process.version}; ${ROUNDS} rounds of ${SECONDS} s, interleaved.`,
    'Client, router and server are network namespaces joined by veth. In the router `iptables -A FORWARD -p tcp -j NFQUEUE --queue-num 0` queues',
    'both the data and the ACK direction to bench/nfq-accept.ts, a PacketQueue whose handler decides nothing (every packet accepted by the',
    'fallback, batch verdicts); queue maxlen 4096, 8 MiB netlink receive buffer, whole packets copied, 64 packets per receive unless "batch 1".',
    '"pipeline" rows run the same queue through the packet pipeline (src/pipeline) with two stages that decide nothing; "parsed": the first',
    'stage parses every packet with src/packet. Target: the pipeline costs at most 10% of the queue\'s packets/s.',
    'One iperf3 TCP stream (IPv4) per run; Gbit/s as the iperf3 receiver counts it.',
    '',
    'Medians, with the range over rounds in brackets. "vs no queue": median of the per-round ratio to no queue in the same direction.',
    'Queued packets/s counts both directions (data and ACKs); mean packet is the original length (GSO packets whole with F_GSO).',
    'CPU-s/GB: user + system CPU of the queue process per GB received by iperf3 (system time includes the forwarding the verdicts reinject).',
    'Kernel drops (queue full / netlink socket full, /proc/net/netfilter/nfnetlink_queue), ENOBUFS and TCP retransmits are totals over the rounds.',
    '',
    '| configuration | direction | Gbit/s | vs no queue | queued packets/s | mean packet (B) | packets per receive | CPU-s/GB | kernel drops (queue / socket) | ENOBUFS | TCP retransmits | target |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const config of CONFIGS) {
    for (const dir of DIRECTIONS) {
      const ss = samples.get(key(config.name, dir.name)) ?? [];
      if (!ss.length) continue;
      const q = config.queue !== null;
      const pick = (f: (s: Sample) => number | undefined): Array<number | undefined> => ss.map(f);
      lines.push('| ' + [
        config.name,
        dir.name,
        cell(pick((s) => s.gbps)),
        q ? cell(pick((s) => s.ratio)) : '1',
        q ? cell(pick((s) => s.pps), fmtK) : '-',
        q ? cell(pick((s) => s.meanBytes)) : '-',
        q ? cell(pick((s) => s.perReceive)) : '-',
        q ? cell(pick((s) => s.cpuPerGB)) : '-',
        q ? `${total(pick((s) => s.queueDropped))} / ${total(pick((s) => s.userDropped))}` : '-',
        q ? total(pick((s) => s.enobufs)) : '-',
        total(pick((s) => s.retransmits)),
        target(config, dir.name, ss),
      ].join(' | ') + ' |');
    }
  }
  lines.push('', `Targets (issue; the reference C per-packet loop measured ~${TARGET_PPS / 1000}k packets/s, ~${TARGET_GBPS_PLAIN} Gbit/s without GSO):`
    + ` >= ${TARGET_PPS / 1000}k packets/s and >= ${TARGET_GBPS_PLAIN} Gbit/s without GSO, >= ${TARGET_GBPS_GSO} Gbit/s with F_GSO.`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  console.log(`NFQUEUE accept path benchmark: ${ROUNDS} rounds, ${SECONDS} s each, configurations: ${CONFIGS.map((c) => c.name).join('; ')}`);
  const lab = await Lab.create({ tag: 'bnfq', id: 51 });
  try {
    lab.spawn('server', 'iperf3', ['-s', '-p', String(PORT)]);
    await lab.waitForListen('server', PORT);
    await iperf(lab, false, 1);   // warm-up, not recorded
    for (let round = 1; round <= ROUNDS; round++) {
      for (const dir of DIRECTIONS) {
        let base = NaN;
        for (const config of CONFIGS) {
          const s = await measure(lab, config, dir.reverse);
          if (!config.queue) base = s.gbps;
          else s.ratio = s.gbps / base;
          const k = key(config.name, dir.name);
          samples.set(k, [...(samples.get(k) ?? []), s]);
          const extra = config.queue
            ? `, ${fmtK(s.pps ?? NaN)} pkt/s, ${fmt(s.meanBytes ?? NaN)} B, ${fmt(s.cpuPerGB ?? NaN)} CPU-s/GB, drops ${s.queueDropped}/${s.userDropped}, ENOBUFS ${s.enobufs}`
            : '';
          console.log(`  round ${round} ${config.name} ${dir.name}: ${s.gbps.toFixed(2)} Gbit/s${extra}, ${s.retransmits} retransmits`);
        }
      }
    }
  } finally {
    await lab.destroy();
  }
  const md = table();
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}/nfq-latest.md`, md);
  console.log('\n' + md);
  console.log(`written to ${RESULTS}/nfq-latest.md`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
