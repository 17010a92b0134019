// One `tcp-intercept trace` run in a lab namespace, its last JSON line read.
import { TCP_INTERCEPT_BIN, type Lab } from '../test/lab/lab.js';

export interface TraceDone {
  reached: boolean;
  reason: string;
  hops: number;
  probes: number;
  elapsedMs: number;
  /** the command's own run, start to exit (queue, rules, waiting for the flow, the trace, cleanup) */
  wallMs: number;
}

/** Throws, saying so, when this checkout's tcp-intercept has no trace command. */
export async function checkTraceCommand(lab: Lab, ns: string): Promise<void> {
  const r = await lab.exec(ns, TCP_INTERCEPT_BIN, ['trace', '--help']);
  if (r.code !== 0 || !r.stdout.includes('tcp-intercept trace')) {
    throw new Error(`${TCP_INTERCEPT_BIN} has no trace command (exit ${r.code}); build a checkout that has it (npx tsc -p tsconfig.json):\n${(r.stdout + r.stderr).slice(0, 500)}`);
  }
}

/** `tcp-intercept trace DEST --json --wait 10` in <ns>; its {"type":"done"} record. */
export async function runTrace(lab: Lab, ns: string, dest: string): Promise<TraceDone> {
  const started = performance.now();
  const r = await lab.exec(ns, TCP_INTERCEPT_BIN, ['trace', dest, '--json', '--wait', '10'], { timeoutMs: 120_000 });
  const wallMs = performance.now() - started;
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let done: (Omit<TraceDone, 'wallMs'> & { type?: string }) | null = null;
  try {
    done = JSON.parse(last) as Omit<TraceDone, 'wallMs'> & { type?: string };
  } catch {
    // reported below
  }
  if (done?.type !== 'done') throw new Error(`tcp-intercept trace printed no done record (exit ${r.code}):\n${r.stdout.slice(-1000)}${r.stderr.slice(-1000)}`);
  return { reached: done.reached, reason: done.reason, hops: done.hops, probes: done.probes, elapsedMs: done.elapsedMs, wallMs };
}
