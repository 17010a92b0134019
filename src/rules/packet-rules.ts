// The packet pipeline's queue rules: install / remove / status over the backend the kernel
// supports, found at run time.
import type { Exec } from './exec.js';
import { installIptablesQueue, iptablesQueueStatus, removeIptablesQueue } from './packet-iptables.js';
import { installNftQueue, nftHasQueue, nftQueueStatus, removeNftQueue } from './packet-nft.js';
import { checkAddresses, RULE_SETS, type PacketRuleOptions, type PacketStatusOptions, type QueueBackend, type RuleSet } from './packet-rule-options.js';
import { checkInjectionMark, checkQueueTarget } from './queue-target.js';

/** nft when the kernel takes an nft queue rule (checked, never assumed), else iptables. */
export async function detectQueueBackend(exec: Exec): Promise<QueueBackend> {
  return (await nftHasQueue(exec)) ? 'nft' : 'iptables';
}

/** Replaces whatever queue rules of ours are there; returns the backend used. */
export async function installPacketRules(exec: Exec, o: PacketRuleOptions): Promise<QueueBackend> {
  checkQueueTarget(o.queue);
  checkInjectionMark(o.injectionMark);
  checkAddresses(o.addresses);
  if (o.forwardInterfaces.length === 0 && !o.addresses && !o.local) throw new Error('packet rules: no forward interface, no address and not local: nothing to queue');
  const backend = o.backend ?? (await detectQueueBackend(exec));
  // The other backend's rules, left by an earlier install, would queue packets twice.
  if (backend === 'nft') {
    await removeIptablesQueue(exec, o.set);
    await installNftQueue(exec, o);
  } else {
    await removeNftQueue(exec, o.set);
    await installIptablesQueue(exec, o);
  }
  return backend;
}

/** Removes our queue rules of both backends, whatever is left of them (also nothing). */
/** Removes the queue rules of a set (default: both sets) of both backends, whatever is left of them (also nothing). */
export async function removePacketRules(exec: Exec, sets: readonly RuleSet[] = RULE_SETS): Promise<void> {
  for (const set of sets) {
    await removeNftQueue(exec, set);
    await removeIptablesQueue(exec, set);
  }
}

export async function packetRulesStatus(exec: Exec, o: PacketStatusOptions = {}): Promise<{ installed: boolean; lines: string[] }> {
  const backend = o.backend ?? (await detectQueueBackend(exec));
  const lines = backend === 'nft' ? await nftQueueStatus(exec, o) : await iptablesQueueStatus(exec, o);
  return { installed: lines.every((l) => !/: absent$/.test(l)), lines };
}
