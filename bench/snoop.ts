// `npm run bench:snoop`: download goodput from the fixed host to the mobile through the snoop lab
// (test/lab/snoop-chain.ts: 20 ms wired each way, last hop 2 ms each way), with and without
// `tcp-intercept snoop` on the base station, by last-hop loss (random, and Gilbert-Elliott bursts
// of the same average) and by the sender's congestion control; then snoop's forwarding cost on the
// same chain with no emulator at all.
//
// iperf3 -R -C <cc>: the fixed host sends with <cc> set on its socket. In each round and for each
// loss the emulators start once and the with/without runs alternate which goes first.
// Knobs: SNOOP_BENCH_SECONDS (8), SNOOP_BENCH_ROUNDS (3), SNOOP_BENCH_QUICK=1 (a smoke run: 1 round
// of 2 s, no loss and 2%, cubic), BENCH_RESULTS (bench/results; writes snoop-latest.md and .svg).
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startSnoop, type SnoopAgent } from '../test/lab/snoop-agent.js';
import { LAST_HOP_DELAY_MS, WIRED_DELAY_MS, withSnoopChain, type SnoopChain } from '../test/lab/snoop-chain.js';
import { iperf } from './measure.js';
import { snoopSvg } from './snoop-chart.js';
import { snoopMarkdown, type CleanRow, type GoodputRow, type LossModel, type Sample } from './snoop-report.js';

const QUICK = process.env.SNOOP_BENCH_QUICK === '1';
const SECONDS = Number(process.env.SNOOP_BENCH_SECONDS ?? (QUICK ? 2 : 8));
const ROUNDS = Number(process.env.SNOOP_BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const RESULTS = process.env.BENCH_RESULTS ?? fileURLToPath(new URL('../../bench/results', import.meta.url));
const PORT = 5201;
const CCS = QUICK ? ['cubic'] : ['cubic', 'reno', 'bbr'];
const PERCENTS = QUICK ? [2] : [1, 2, 5, 10];
/** Gilbert-Elliott: every packet lost in the bad state, which lasts 1 / EXIT packets (2) on average. */
const BURST_EXIT = 0.5;

function lossModels(): LossModel[] {
  const models: LossModel[] = [{ name: 'none', percent: 0, burst: false, args: [] }];
  for (const p of PERCENTS) models.push({ name: `${p}% random`, percent: p, burst: false, args: ['--loss', `${p}`] });
  for (const p of PERCENTS) {
    // Stationary loss enter / (enter + exit) = p.
    const enter = (p / (100 - p)) * BURST_EXIT;
    models.push({ name: `${p}% bursts`, percent: p, burst: true, args: ['--burst', `${enter.toFixed(5)},${BURST_EXIT}`] });
  }
  return models;
}

const SUPPRESSED = 'tcp_intercept_snoop_dupacks_suppressed_total';
const LOCAL = 'tcp_intercept_snoop_local_retransmits_total';

/** One iperf3 download; snoop's counters are read around it when it runs. */
async function download(chain: SnoopChain, cc: string, agent: SnoopAgent | null, seconds: number): Promise<Sample> {
  const before = agent ? await agent.metrics() : new Map<string, number>();
  const r = await iperf(chain.lab, PORT, { streams: 1, reverse: true, seconds, cc });
  const after = agent ? await agent.metrics() : new Map<string, number>();
  const delta = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  return { mbit: r.bitsPerSecond / 1e6, retransmits: r.retransmits, localRetransmits: delta(LOCAL), dupacksSuppressed: delta(SUPPRESSED) };
}

/** Runs fn with snoop on the base station (or without it), and checks that snoop stopped cleanly. */
async function maybeSnoop<T>(chain: SnoopChain, on: boolean, fn: (agent: SnoopAgent | null) => Promise<T>): Promise<T> {
  if (!on) return fn(null);
  const agent = await startSnoop(chain);
  try {
    return await fn(agent);
  } finally {
    const exit = await agent.stop();
    if (exit.code !== 0 || exit.leftRules.length) console.error(`  snoop exited ${exit.code}, rules left: ${exit.leftRules.join('; ') || 'none'}\n${exit.output}`);
  }
}

async function lossyRounds(chain: SnoopChain, rows: GoodputRow[]): Promise<void> {
  const models = lossModels();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, loss] of models.entries()) {
      const links = await chain.links(loss.args);
      try {
        const order = (round + i) % 2 ? [true, false] : [false, true];
        for (const on of order) {
          await maybeSnoop(chain, on, async (agent) => {
            for (const cc of CCS) {
              const row = rows.find((r) => r.loss === loss && r.cc === cc) ?? { loss, cc, without: [], with: [], failures: 0 };
              if (!rows.includes(row)) rows.push(row);
              try {
                const s = await download(chain, cc, agent, SECONDS);
                (on ? row.with : row.without).push(s);
                console.log(`  round ${round} ${loss.name} ${cc} ${on ? 'with' : 'without'} snoop: ${s.mbit.toFixed(2)} Mbit/s, ` +
                  `${s.retransmits} sender retransmits${on ? `, ${s.localRetransmits} local retransmits, ${s.dupacksSuppressed} dupacks suppressed` : ''}`);
              } catch (err) {
                row.failures++;
                console.error(`  round ${round} ${loss.name} ${cc} ${on ? 'with' : 'without'} snoop failed: ${(err as Error).message}`);
              }
            }
          });
        }
      } finally {
        await links.stop();
      }
    }
  }
}

async function cleanRounds(chain: SnoopChain, clean: CleanRow): Promise<void> {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const on of round % 2 ? [false, true] : [true, false]) {
      const s = await maybeSnoop(chain, on, (agent) => download(chain, 'cubic', agent, SECONDS));
      (on ? clean.snoopGbit : clean.plainGbit).push(s.mbit / 1000);
      console.log(`  round ${round} clean chain ${on ? 'with snoop' : 'plain forwarding'}: ${(s.mbit / 1000).toFixed(2)} Gbit/s`);
    }
  }
}

async function main(): Promise<void> {
  console.log(`snoop benchmark: ${ROUNDS} round(s) of ${SECONDS} s, sender ${CCS.join('/')}, loss ${lossModels().map((l) => l.name).join(', ')}`);
  const rows: GoodputRow[] = [];
  const clean: CleanRow = { plainGbit: [], snoopGbit: [] };
  await withSnoopChain('bsnoop', 34, async (chain) => {
    const server = chain.lab.spawn('server', 'iperf3', ['-s', '-p', `${PORT}`]);
    try {
      await chain.lab.waitForListen('server', PORT);
      console.log('goodput fixed host -> mobile (iperf3 -R -C cc)');
      await lossyRounds(chain, rows);
      console.log('forwarding on a clean chain (no emulator)');
      await cleanRounds(chain, clean);
    } finally {
      server.kill();
      await server.exited;
    }
  });
  const header = [
    '# Snoop: download goodput over a lossy last hop',
    '',
    `${new Date().toISOString()}, ${availableParallelism()} CPUs, Linux ${release()}, Node.js ${process.version}; ${ROUNDS} round(s) of ${SECONDS} s per run, with/without interleaved.`,
    'Namespaces: fixed host (iperf3 server) - wired hop (`tcp-intercept emulate --delay ' + `${WIRED_DELAY_MS}` + '` each way) - base station' +
      ' (`tcp-intercept snoop --snoop-interface <toward the mobile>` with its defaults, or plain forwarding) - last hop (`tcp-intercept emulate' +
      ` --delay ${LAST_HOP_DELAY_MS}\` each way, and the loss toward the mobile) - mobile (iperf3 -c -R -C <cc>, one stream, IPv4).`,
    `RTT ${2 * (WIRED_DELAY_MS + LAST_HOP_DELAY_MS)} ms. Bursts: Gilbert-Elliott \`--burst ENTER,${BURST_EXIT}\` with ENTER set for the same average loss (mean burst ${1 / BURST_EXIT} packets).`,
  ];
  const md = snoopMarkdown(header, rows, clean);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}/snoop-latest.md`, md);
  writeFileSync(`${RESULTS}/snoop-latest.svg`, snoopSvg(rows));
  console.log('\n' + md);
  console.log(`written to ${RESULTS}/snoop-latest.md and snoop-latest.svg`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
