// `npm run bench:accel`: upload goodput from a cubic client to a server across a long link beyond
// the router (test/lab/accel-path.ts: 100 Mbit/s both ways, RTT/2 each way, loss toward the
// server), end to end and split by tcp-intercept (server leg cubic or bbr, with and without fixed
// server-leg buffers), over a matrix of RTT and loss.
//
// In each round and for each path the emulators start once and the variants run one after the
// other, in an order that rotates with the round and the path. Each variant has its own iperf3
// server port (TIME_WAIT of the proxy's legs would otherwise meet plain forwarding).
// Knobs: ACCEL_BENCH_SECONDS (10; runs at RTT >= 600 ms take 1.5 times as long), ACCEL_BENCH_ROUNDS
// (3 if they fit in 40 min by the estimate printed at the start, else 2), ACCEL_BENCH_QUICK=1 (a smoke run: 1 round of 2 s, RTT 20 and 100 ms, loss 1%),
// ACCEL_BENCH_BUFFERS (the buffer variants' flags, default SERVER_LEG_BUFFERS; 'none': no buffer variants), ACCEL_BENCH_LAB_ID
// (32), BENCH_RESULTS (bench/results; writes accel-latest.md and .svg).
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  END_TO_END, ROUTERS, SERVER_LEG_BUFFERS, iperfServers, longLink, measureVariant, splitVariant, type Variant,
} from '../test/lab/accel-path.js';
import { SENDER_CC } from '../test/lab/cubic-iperf.js';
import { withLab, type Lab } from '../test/lab/lab.js';
import { accelSvg } from './accel-chart.js';
import { accelMarkdown, type Cell } from './accel-report.js';

const QUICK = process.env.ACCEL_BENCH_QUICK === '1';
const SECONDS = Number(process.env.ACCEL_BENCH_SECONDS ?? (QUICK ? 2 : 10));
/** Unset: 3 rounds if they fit in BUDGET_MIN minutes by the estimate, else 2. */
const ROUNDS_SET = process.env.ACCEL_BENCH_ROUNDS ?? (QUICK ? '1' : undefined);
const BUDGET_MIN = 40;
/** 'none': no buffer variants (a proxy without the buffer options) */
const BUFFERS = process.env.ACCEL_BENCH_BUFFERS === 'none' ? [] : process.env.ACCEL_BENCH_BUFFERS?.split(/\s+/).filter(Boolean) ?? SERVER_LEG_BUFFERS;
const LAB_ID = Number(process.env.ACCEL_BENCH_LAB_ID ?? 32);
const RESULTS = process.env.BENCH_RESULTS ?? fileURLToPath(new URL('../../bench/results', import.meta.url));
const RTTS = QUICK ? [20, 100] : [20, 100, 300, 600];
const LOSSES = QUICK ? [1] : [0, 0.1, 1, 3];
const RATE_MBIT = 100;
const FIRST_PORT = 5301;
/** Beyond this RTT a run is longer: cubic needs more round trips to get going. */
const LONG_RTT_MS = 600;

const VARIANTS: Variant[] = [
  END_TO_END,
  splitVariant('cubic'),
  splitVariant('bbr'),
  ...(BUFFERS.length ? [splitVariant('cubic', BUFFERS), splitVariant('bbr', BUFFERS)] : []),
];

const secondsAt = (rttMs: number): number => (rttMs >= LONG_RTT_MS ? Math.round(SECONDS * 1.5) : SECONDS);

/** Rough duration of one round: each run's seconds, the proxy's start and stop, iperf3's handshakes at the RTT. */
const roundSeconds = RTTS.reduce((sum, rtt) => sum + LOSSES.length * (2 + VARIANTS.length * (secondsAt(rtt) + 2 + (8 * rtt) / 1000)), 0);
const ROUNDS = ROUNDS_SET !== undefined ? Number(ROUNDS_SET) : 3 * roundSeconds <= BUDGET_MIN * 60 ? 3 : 2;
const roundsWhy = ROUNDS_SET !== undefined ? 'as set' :
  `${ROUNDS === 3 ? '3 fit' : '3 would not fit'} in ${BUDGET_MIN} min by the estimate of ${(roundSeconds / 60).toFixed(0)} min per round`;

async function hostBuffers(lab: Lab): Promise<string> {
  const keys = ['net.ipv4.tcp_wmem', 'net.ipv4.tcp_rmem', 'net.core.wmem_max', 'net.core.rmem_max'];
  const out = await lab.run('router', 'sysctl', keys);
  return out.trim().split('\n').map((l) => `\`${l.replace(/\s+/g, ' ')}\``).join(', ');
}

async function rounds(lab: Lab, cells: Cell[], clientCcs: Set<string>): Promise<void> {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, cell] of cells.entries()) {
      const link = await longLink(lab, { rttMs: cell.rttMs, lossPercent: cell.lossPercent, rateMbit: RATE_MBIT });
      try {
        const shift = (round + i) % VARIANTS.length;
        const order = [...VARIANTS.slice(shift), ...VARIANTS.slice(0, shift)];
        for (const v of order) {
          const label = `round ${round} RTT ${cell.rttMs} ms loss ${cell.lossPercent}% ${v.name}`;
          try {
            const g = await measureVariant(lab, v, FIRST_PORT + VARIANTS.indexOf(v), secondsAt(cell.rttMs));
            cell.mbit.get(v.name)?.push(g.mbit);
            clientCcs.add(g.senderCc);
            console.log(`  ${label}: ${g.mbit.toFixed(2)} Mbit/s, client ${g.senderCc}, ${g.retransmits} client retransmits`);
          } catch (err) {
            cell.failures++;
            console.error(`  ${label} failed: ${(err as Error).message}`);
          }
        }
      } finally {
        await link.stop();
      }
    }
  }
}

async function main(): Promise<void> {
  console.log(`accel benchmark: ${ROUNDS} round(s) of ${SECONDS} s per run (${secondsAt(LONG_RTT_MS)} s at RTT ${LONG_RTT_MS} ms), ` +
    `RTT ${RTTS.join('/')} ms, loss ${LOSSES.join('/')}%, ${VARIANTS.length} variants: ${VARIANTS.map((v) => v.name).join(', ')}`);
  console.log(`estimated duration: ${((ROUNDS * roundSeconds) / 60).toFixed(0)} min`);
  console.log(`${ROUNDS} round(s): ${roundsWhy}`);
  const cells: Cell[] = LOSSES.flatMap((lossPercent) => RTTS.map((rttMs) => ({
    rttMs, lossPercent, failures: 0, mbit: new Map(VARIANTS.map((v) => [v.name, []])),
  })));
  const clientCcs = new Set<string>();
  const started = Date.now();
  let buffers = '';
  await withLab({ tag: 'baccel', id: LAB_ID, routers: ROUTERS }, async (lab) => {
    buffers = await hostBuffers(lab);
    await iperfServers(lab, VARIANTS.map((_, i) => FIRST_PORT + i));
    await rounds(lab, cells, clientCcs);
  });
  const minutes = (Date.now() - started) / 60_000;
  const header = [
    '# Split-connection acceleration: goodput over a long lossy path',
    '',
    `${new Date().toISOString()}, ${availableParallelism()} CPUs (shared with other work: the figures are noisy, read the medians), ` +
      `Linux ${release()}, Node.js ${process.version}; ${ROUNDS} round(s) (${roundsWhy}), ${SECONDS} s per run (${secondsAt(LONG_RTT_MS)} s at RTT ${LONG_RTT_MS} ms), ` +
      `variants interleaved in a rotating order; ${minutes.toFixed(0)} min in all.`,
    'Namespaces: client (`iperf3 -c -C cubic`, one stream, IPv4, upload) - router (tcp-intercept behind the TPROXY rules, or plain' +
      ' forwarding with the rules removed) - link router (`tcp-intercept emulate` each way: `--delay RTT/2' + ` --rate ${RATE_MBIT}\`, and` +
      ' `--loss P` toward the server) - server (iperf3 -s).',
    `Client congestion control as iperf3 read it back from the client's socket: ${[...clientCcs].join(', ') || 'none (no run completed)'} ` +
      `(asked for: ${SENDER_CC}). Split variants: \`--cc-client ${SENDER_CC} --cc-server CC\`` +
      (BUFFERS.length ? `; "+ buffers": \`${BUFFERS.join(' ')}\`.` : '; no buffer variants in this run.'),
    `Host buffers in the router's namespace at run time: ${buffers}.`,
  ];
  const names = VARIANTS.map((v) => v.name);
  const md = accelMarkdown(header, names, cells);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}/accel-latest.md`, md);
  writeFileSync(`${RESULTS}/accel-latest.svg`, accelSvg(names, cells));
  console.log('\n' + md);
  console.log(`written to ${RESULTS}/accel-latest.md and accel-latest.svg`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
