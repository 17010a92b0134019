// The demo's long path: 300 ms RTT, 1% loss toward the server, 100 Mbit/s, beyond the router
// (test/lab/accel-path.ts). A cubic client uploads end to end, then through tcp-intercept with a
// bbr server leg, without and with fixed server-leg buffers; interleaved rounds.
import { END_TO_END, SERVER_LEG_BUFFERS, iperfServers, longLink, measureVariant, splitVariant, type PathConditions } from './accel-path.js';
import type { Lab } from './lab.js';
import { gainLine, interleaved, mbit, median, senderCongestion } from './demo-rounds.js';

const PATH: PathConditions = { rttMs: 300, lossPercent: 1, rateMbit: 100 };
const ROUNDS = 2;
const SECONDS = 15;
const FIRST_PORT = 5311;
const VARIANTS = [END_TO_END, splitVariant('bbr'), splitVariant('bbr', SERVER_LEG_BUFFERS)];
/** The split the gain is quoted for. */
const HEADLINE = VARIANTS[2];

export async function longPathSection(lab: Lab, n: number): Promise<void> {
  console.log(`${n}. A long, lossy path beyond the router: ${PATH.rttMs} ms RTT (${PATH.rttMs / 2} ms each way), ${PATH.lossPercent}% loss toward`);
  console.log(`   the server, ${PATH.rateMbit} Mbit/s, emulated by tcp-intercept emulate in a second router. The client uploads with`);
  console.log('   cubic: end to end, its cubic meets the loss at 300 ms RTT; split, only the server leg crosses the');
  console.log(`   long link, with bbr. iperf3 ${SECONDS} s per run, ${ROUNDS} rounds, interleaved.`);
  for (const v of VARIANTS.slice(1)) console.log(`   ${v.name}: tcp-intercept ${v.proxyArgs?.join(' ')}`);
  await iperfServers(lab, VARIANTS.map((_, i) => FIRST_PORT + i));
  const link = await longLink(lab, PATH);
  let samples;
  try {
    samples = await interleaved(ROUNDS, VARIANTS.map((v) => v.name), (name) => {
      const i = VARIANTS.findIndex((v) => v.name === name);
      return measureVariant(lab, VARIANTS[i], FIRST_PORT + i, SECONDS);
    });
  } finally {
    const [toServer] = await link.stop();
    const lost = /^packets .*$/m.exec(toServer)?.[0];
    if (lost) console.log(`   the emulator toward the server: ${lost}`);
  }
  console.log(`   median: ${VARIANTS.map((v, i) => `${v.name} ${mbit(median(samples[i].map((g) => g.mbit)))}`).join(', ')}`);
  console.log(`client congestion control: ${senderCongestion(samples)}`);
  console.log(`   gain of ${HEADLINE.name} over ${END_TO_END.name}:`);
  console.log(gainLine(samples[VARIANTS.indexOf(HEADLINE)], samples[0]));
}
