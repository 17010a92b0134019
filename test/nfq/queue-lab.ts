// Driving a queue runner (queue-runner.ts) in a lab's router: NFQUEUE rules on its FORWARD chain,
// one runner per test with its stats, and the bookkeeping every run must satisfy.
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import type { Lab } from '../lab/lab.js';
import type { PacketQueueStats } from '../../src/nfq/queue.js';

export type RunnerStats = PacketQueueStats & {
  parseErrors: number; keptLengthAfter: number; gsoSeen: number; maxLength: number; handlerErrorsSeen: number;
  perQueue: Record<string, number>;
  /** calls that should have been refused but were not, and the refusals by message (digits as N) */
  notRefused: number; refusals: Record<string, number>;
};

const RUNNER = fileURLToPath(new URL('./queue-runner.ts', import.meta.url));

/** Runs <fn> while the runner script <script> in <mode> serves the router's queue; returns the
 *  stats it prints as `stats {json}` when stopped. */
export async function withRunner<S>(lab: Lab, script: string, mode: string, options: object, fn: () => Promise<void>): Promise<S> {
  const runner = lab.spawn('router', process.execPath, [...process.execArgv, script, mode, JSON.stringify(options)]);
  try {
    await runner.waitForOutput(/^ready$/m, 20_000);
    await fn();
  } finally {
    runner.kill('SIGTERM');
    await runner.exited;
  }
  const m = /^stats (.*)$/m.exec(runner.stdout());
  if (!m) throw new Error(`${script} printed no stats:\n${runner.output()}`);
  return JSON.parse(m[1]) as S;
}

/** Runs <fn> while a queue runner (queue-runner.ts) in <mode> serves the router's queue. */
export function withQueue(lab: Lab, mode: string, options: object, fn: () => Promise<void>): Promise<RunnerStats> {
  return withRunner<RunnerStats>(lab, RUNNER, mode, options, fn);
}

/** Adds (-A) or deletes (-D) NFQUEUE rules for <protocols> on the router's FORWARD chain, both families. */
export async function queueRules(lab: Lab, action: '-A' | '-D', protocols: string[], extra: string[] = [], target = ['--queue-num', '0']): Promise<void> {
  for (const tool of ['iptables', 'ip6tables']) {
    for (const p of protocols) {
      const proto = tool === 'ip6tables' && p === 'icmp' ? 'ipv6-icmp' : p;
      await lab.run('router', tool, [action, 'FORWARD', '-p', proto, '-j', 'NFQUEUE', ...target, ...extra]);
    }
  }
}

export function checkBookkeeping(t: Test, s: RunnerStats): void {
  t.equal(s.accepted + s.dropped, s.packets, `every packet got one verdict (${s.packets} packets)`);
  t.equal(s.held, 0, 'nothing left held');
  t.equal(s.verdictErrors, 0, 'the kernel refused no verdict');
  t.equal(s.kernel?.waiting, 0, 'the kernel holds nothing for us');
}
