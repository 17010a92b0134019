// The demo's last hop: a cubic download toward the mobile across a lossy last hop, with snoop on
// the base station and without, on the snoop chain (test/lab/snoop-chain.ts) in a lab of its own.
import { cubicIperf, type Goodput } from './cubic-iperf.js';
import { gainLine, interleaved, mbit, median, senderCongestion } from './demo-rounds.js';
import { startSnoop } from './snoop-agent.js';
import { LAST_HOP_DELAY_MS, WIRED_DELAY_MS, withSnoopChain, type SnoopChain } from './snoop-chain.js';

const LAB_ID = 35;
const LOSS_PERCENT = 2;
const ROUNDS = 2;
const SECONDS = 5;
const PORT = 5201;
const WITHOUT = 'snoop off';
const WITH = 'snoop on';

async function download(chain: SnoopChain, way: string): Promise<Goodput> {
  if (way === WITHOUT) return cubicIperf(chain.lab, PORT, SECONDS, true);
  const agent = await startSnoop(chain);
  const run = await cubicIperf(chain.lab, PORT, SECONDS, true).catch(async (err: unknown) => {
    await agent.stop();
    throw err;
  });
  const exit = await agent.stop();
  if (exit.code !== 0 || exit.leftRules.length) throw new Error(`snoop exited ${exit.code}, rules left: ${exit.leftRules.join('; ') || 'none'}\n${exit.output}`);
  return run;
}

export async function snoopSection(n: number): Promise<void> {
  console.log(`${n}. A lossy last hop: fixed host - wired path (${WIRED_DELAY_MS} ms each way) - base station - last hop (${LAST_HOP_DELAY_MS} ms each way,`);
  console.log(`   ${LOSS_PERCENT}% loss toward the mobile) - mobile, in a second lab. The fixed host sends to the mobile with cubic`);
  console.log(`   (iperf3 -R -C cubic), with tcp-intercept snoop on the base station and without; ${SECONDS} s per run, ${ROUNDS} rounds.`);
  await withSnoopChain('dsnoop', LAB_ID, async (chain) => {
    chain.lab.spawn('server', 'iperf3', ['-s', '-p', `${PORT}`]);
    await chain.lab.waitForListen('server', PORT);
    const links = await chain.links(['--loss', `${LOSS_PERCENT}`]);
    let samples;
    try {
      samples = await interleaved(ROUNDS, [WITHOUT, WITH], (way) => download(chain, way));
    } finally {
      await links.stop();
    }
    console.log(`   median: ${WITHOUT} ${mbit(median(samples[0].map((g) => g.mbit)))}, ${WITH} ${mbit(median(samples[1].map((g) => g.mbit)))}`);
    console.log(`   sender congestion control (the fixed host's socket, read back by iperf3): ${senderCongestion(samples)}`);
    console.log(gainLine(samples[1], samples[0]));
  });
}
