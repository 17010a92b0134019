// install / drain / remove / status over the chosen backend plus the policy routing.
import type { Exec } from './exec.js';
import { drainIptables, installIptables, iptablesStatus, removeIptables } from './iptables.js';
import { drainNft, installNft, nftStatus, removeNft } from './nft.js';
import { disableEarlyDemux } from './early-demux.js';
import { installRouting, removeRouting, routingStatus } from './routing.js';
import type { RuleOptions } from './rule-options.js';

/** nft when the nft tool runs here, else iptables. */
export async function defaultBackend(exec: Exec): Promise<RuleOptions['backend']> {
  return (await exec.query('nft', ['--version'])).code === 0 ? 'nft' : 'iptables';
}

/**
 * Routing first: a SYN the rules divert before the marked packets' route exists would be
 * forwarded with the listener assigned to it, and the kernel drops those (a 1 s stall).
 * Resolves to warnings about what could not be done but does not stop the proxy working.
 */
export async function installRules(exec: Exec, o: RuleOptions): Promise<string[]> {
  const warnings = await disableEarlyDemux(exec);
  await installRouting(exec, o);
  if (o.backend === 'nft') await installNft(exec, o);
  else await installIptables(exec, o);
  return warnings;
}

/**
 * Stops diverting new connections (they pass to the servers) and keeps what delivers the packets
 * of connections in flight to the proxy: for the time it drains. `installRules` diverts again.
 */
export async function drainRules(exec: Exec, o: RuleOptions): Promise<void> {
  if (o.backend === 'nft') await drainNft(exec);
  else await drainIptables(exec);
}

export async function removeRules(exec: Exec, o: RuleOptions): Promise<void> {
  if (o.backend === 'nft') await removeNft(exec);
  else await removeIptables(exec);
  await removeRouting(exec, o);
}

export async function rulesStatus(exec: Exec, o: RuleOptions): Promise<{ installed: boolean; lines: string[] }> {
  const lines = [...(o.backend === 'nft' ? await nftStatus(exec) : await iptablesStatus(exec)), ...(await routingStatus(exec, o))];
  return { installed: lines.every((l) => !/: absent$/.test(l)), lines };
}
