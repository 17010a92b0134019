// `tcp-intercept snoop` in the base station of a SnoopChain, run as an operator runs it: it
// installs its own queue rules, serves its metrics, and on SIGTERM removes the rules and prints
// its report.
import { TCP_INTERCEPT_BIN, type LabProcess } from './lab.js';
import type { SnoopChain } from './snoop-chain.js';

const QUEUE = 7;
const METRICS = '127.0.0.1:9464';
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 15_000;

export interface SnoopExit {
  code: number | null;
  /** what it printed, the report included */
  output: string;
  /** queue rules still in the base station after it exited */
  leftRules: string[];
}

export interface SnoopAgent {
  process: LabProcess;
  /** Its Prometheus samples now, by series ("name" or "name{labels}"). */
  metrics(): Promise<Map<string, number>>;
  /** SIGTERM, SIGKILL if it hangs; what it printed and left behind. */
  stop(): Promise<SnoopExit>;
}

/** NFQUEUE rules of the base station, both families. */
async function queueRules(chain: SnoopChain): Promise<string[]> {
  const rules: string[] = [];
  for (const tool of ['iptables-save', 'ip6tables-save']) {
    const out = await chain.lab.run(chain.base, tool, []);
    rules.push(...out.split('\n').filter((l) => l.includes('NFQUEUE')).map((l) => `${tool}: ${l}`));
  }
  return rules;
}

function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/i.exec(line);
    if (m) samples.set(m[1], Number(m[2]));
  }
  return samples;
}

/** Starts snoop on the base station's lossy interface and waits until it is ready. */
export async function startSnoop(chain: SnoopChain, args: string[] = []): Promise<SnoopAgent> {
  const cmd = ['snoop', '--snoop-interface', chain.lossyInterface, '--queue', `${QUEUE}`, '--metrics', METRICS, ...args];
  const p = chain.lab.spawn(chain.base, TCP_INTERCEPT_BIN, cmd);
  const stop = async (): Promise<SnoopExit> => {
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), STOP_GRACE_MS);
    const { code } = await p.exited;
    clearTimeout(timer);
    return { code, output: p.output(), leftRules: await queueRules(chain) };
  };
  // Printed once the queue, the rules and the metrics endpoint are up.
  await Promise.race([
    p.waitForOutput(/^tcp-intercept snoop: /m, START_TIMEOUT_MS),
    p.exited.then(() => {
      throw new Error('exited');
    }),
  ]).catch(async (err: unknown) => {
    const { output } = await stop();
    throw new Error(`tcp-intercept ${cmd.join(' ')} did not start (${(err as Error).message}):\n${output}`);
  });
  return {
    process: p,
    metrics: async () => parseMetrics(await chain.lab.run(chain.base, 'curl', ['-sf', '--max-time', '5', `http://${METRICS}/metrics`])),
    stop,
  };
}
