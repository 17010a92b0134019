// The link emulator's egress rule, like netem on an interface: what leaves IF goes to its queue
// in mangle POSTROUTING (after FORWARD, so a packet pipeline's queue sees packets first), except
// our own injections.
import type { Exec } from './exec.js';
import { checkInjectionMark, checkQueueTarget, iptablesMarkMatch, iptablesQueueTarget, type QueueTarget } from './queue-target.js';

export interface EmulatorRuleOptions {
  /** the egress interface */
  interface: string;
  queue: QueueTarget;
  injectionMark: number;
}

const TOOLS = ['iptables', 'ip6tables'];

/** The rule as iptables arguments after `-t mangle -A` (or `-D`, `-C`). */
export function emulatorRule(o: EmulatorRuleOptions): string[] {
  checkQueueTarget(o.queue);
  checkInjectionMark(o.injectionMark);
  return ['POSTROUTING', '-o', o.interface, ...iptablesMarkMatch(o.injectionMark, true), ...iptablesQueueTarget(o.queue)];
}

/** Adds the rule for both families, once however often it runs. */
export async function installEmulatorRule(exec: Exec, o: EmulatorRuleOptions): Promise<void> {
  const rule = emulatorRule(o);
  for (const tool of TOOLS) {
    if ((await exec.query(tool, ['-t', 'mangle', '-C', ...rule])).code !== 0) await exec.change(tool, ['-t', 'mangle', '-A', ...rule]);
  }
}

export async function removeEmulatorRule(exec: Exec, o: EmulatorRuleOptions): Promise<void> {
  const rule = emulatorRule(o);
  for (const tool of TOOLS) while (await exec.undo(tool, ['-t', 'mangle', '-D', ...rule])) { /* every copy */ }
}
