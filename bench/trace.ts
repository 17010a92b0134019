// `npm run bench:trace`: how long `tcp-intercept trace SERVER --json` takes on an 8-hop lab path
// (client - 7 routers - server; the trace runs on the first router, so it sees 7 hops) along a
// long-lived iperf3 flow, and what tracing costs that flow: its goodput with traces run back to
// back during it and without (rounds interleaved, which goes first alternating).
// Knobs: TRACE_BENCH_RUNS (10 timed traces), TRACE_BENCH_ROUNDS (3), TRACE_BENCH_SECONDS (10 per
// goodput run), TRACE_BENCH_RATE (200M: the download's iperf3 -b; '' unpaced), TRACE_BENCH_DELAY_MS (10: one-way delay each way at the fourth router, by the
// emulator), BENCH_RESULTS (bench/results; writes trace-latest.md).
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startBulkFlow, type BulkFlow } from '../test/lab/flows.js';
import { withTraceChain, type TraceChain } from '../test/lab/trace-chain.js';
import { checkTraceCommand, runTrace } from './trace-run.js';
import { traceMarkdown, type FlowSample, type TraceResults } from './trace-report.js';

const RUNS = Number(process.env.TRACE_BENCH_RUNS ?? 10);
const ROUNDS = Number(process.env.TRACE_BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.TRACE_BENCH_SECONDS ?? 10);
const DELAY_MS = Number(process.env.TRACE_BENCH_DELAY_MS ?? 10);
/** The download's pace (iperf3 -b), '' for as fast as it goes: a WAN-like flow by default. */
const RATE = process.env.TRACE_BENCH_RATE ?? '200M';
const RESULTS = process.env.BENCH_RESULTS ?? fileURLToPath(new URL('../../bench/results', import.meta.url));
const ROUTERS = 7;
const DELAY_ROUTER = 3;
/** Each download on a port of its own: iperf3's one-off server of the last may not have exited yet. */
let nextPort = 5201;

/** Runs fn while a download of <seconds> flows from the server to the client, stopping it on failure. */
async function duringFlow<T>(chain: TraceChain, seconds: number, fn: (flow: BulkFlow) => Promise<T>): Promise<T> {
  const flow = await startBulkFlow(chain.lab, { seconds, port: nextPort++, dest: chain.lab.server.v4, direction: 'download', rate: RATE || undefined });
  try {
    return await fn(flow);
  } catch (err) {
    await flow.stop();
    throw err;
  }
}

async function timedTraces(chain: TraceChain, results: TraceResults): Promise<void> {
  // Long enough for every run at the default 1.5 s probe timeout; stopped when they are done.
  await duringFlow(chain, RUNS * 30 + 30, async (flow) => {
    for (let i = 1; i <= RUNS; i++) {
      try {
        const d = await runTrace(chain.lab, chain.tracer, chain.lab.server.v4);
        results.runs.push(d);
        console.log(`  trace ${i}: ${d.reason}, ${d.hops} hops, ${d.probes} probes, ${d.elapsedMs} ms (command ${d.wallMs.toFixed(0)} ms)`);
      } catch (err) {
        results.failures.push((err as Error).message);
        console.error(`  trace ${i} failed: ${(err as Error).message}`);
      }
    }
    await flow.stop();
  });
}

/** One goodput run; with <tracing>, traces run back to back until the flow ends. */
async function goodputRun(chain: TraceChain, tracing: boolean): Promise<FlowSample> {
  return duringFlow(chain, SECONDS, async (flow) => {
    let ended = false;
    let traces = 0;
    const result = flow.done.finally(() => (ended = true));
    const loop = (async (): Promise<void> => {
      while (tracing && !ended) {
        await runTrace(chain.lab, chain.tracer, chain.lab.server.v4).catch((err: unknown) => console.error(`  a trace failed: ${(err as Error).message}`));
        traces++;
      }
    })();
    const r = await result;
    await loop;
    return { mbit: r.bitsPerSecond / 1e6, retransmits: r.retransmits, traces };
  });
}

async function goodputRounds(chain: TraceChain, results: TraceResults): Promise<void> {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const tracing of round % 2 ? [false, true] : [true, false]) {
      const s = await goodputRun(chain, tracing);
      (tracing ? results.with : results.without).push(s);
      console.log(`  round ${round} ${tracing ? 'traced' : 'untraced'}: ${s.mbit.toFixed(0)} Mbit/s, ${s.retransmits} sender retransmits${tracing ? `, ${s.traces} traces` : ''}`);
    }
  }
}

async function main(): Promise<void> {
  console.log(`trace benchmark: ${RUNS} timed traces, ${ROUNDS} goodput round(s) of ${SECONDS} s, delay ${DELAY_MS} ms each way`);
  const results: TraceResults = { runs: [], failures: [], without: [], with: [] };
  await withTraceChain('btrace', 35, async (chain) => {
    await checkTraceCommand(chain.lab, chain.tracer);
    const delay = DELAY_MS > 0 ? await chain.delayHop(DELAY_ROUTER, DELAY_MS) : null;
    try {
      console.log('trace durations along a download');
      await timedTraces(chain, results);
      console.log('the download\'s goodput with and without traces');
      await goodputRounds(chain, results);
    } finally {
      await delay?.stop();
    }
  }, ROUTERS);
  const header = [
    '# Trace: duration, and the cost to the traced flow',
    '',
    `${new Date().toISOString()}, ${availableParallelism()} CPUs, Linux ${release()}, Node.js ${process.version}.`,
    `Namespaces: client - ${ROUTERS} routers - server, 8 hops from the client; \`tcp-intercept trace <server> --json --wait 10\` on the first router ` +
      `(7 hops to trace) with its defaults, along an iperf3 download (server -> client, -C cubic, IPv4, ${RATE ? `paced at ${RATE}bit/s` : 'unpaced'}). ` +
      (DELAY_MS > 0 ? `The fourth router delays ${DELAY_MS} ms each way (\`tcp-intercept emulate\`).` : 'No emulator: bare veth links.'),
    `${RUNS} timed traces in a row along one download; then ${ROUNDS} round(s) of ${SECONDS} s downloads, with traces back to back and without, interleaved.`,
  ];
  const md = traceMarkdown(header, results);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}/trace-latest.md`, md);
  console.log('\n' + md);
  console.log(`written to ${RESULTS}/trace-latest.md`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
