// `tcp-intercept rules install|drain|remove|status`: the TPROXY rules and policy routing that hand
// connections to the proxy, and the queue rules of snoop when the service runs it. Exit status:
// 0 done (status: installed), 1 status: not (fully) installed, 64 usage, 71 a tool failed.
// install and status follow the service's own options (its configuration, environment and
// --service-options): the listen port, the server-leg mark, whether it runs a proxy and snoop.
import yargs from 'yargs';
import { loadServiceOptions, type ServiceOptions, type SnoopService } from '../config/load-options.js';
import { INJECTION_MARK } from '../config/marks.js';
import { wholeNumber } from '../config/numbers.js';
import { StartupError, UsageError } from '../errors.js';
import { addon } from '../native/addon.js';
import { describeQueues } from '../nfq/queue.js';
import { Exec } from '../rules/exec.js';
import type { PacketRuleOptions, QueueBackend } from '../rules/packet-rule-options.js';
import { installPacketRules, packetRulesStatus, removePacketRules } from '../rules/packet-rules.js';
import { argLast, argList, failAsUsage } from './arg-values.js';
import { parseServiceArgs, serviceGiven } from './service-args.js';
import { checkServerMark, checkTable, parseInterfaces, parseNetworks, parsePorts, type RuleOptions } from '../rules/rule-options.js';
import { defaultBackend, drainRules, installRules, removeRules, rulesStatus } from '../rules/rules.js';

function parse(argv: string[]) {
  return yargs(argv)
    .scriptName('tcp-intercept rules')
    .usage('tcp-intercept rules install|drain|remove|status [options]\n\nInstalls the TPROXY rules (nftables: one table inet tcp-intercept; iptables: a mangle chain) and the policy routing that hand connections to tcp-intercept. Idempotent; remove leaves nothing behind. drain stops diverting new connections (they go straight to the servers) while those already handed over still reach the proxy: for the time it drains. ' +
      "When the service's options configure snoop (--snoop-interface), install and status also cover snoop's NFQUEUE rules, and without a proxy (empty bind-listen) only those; remove always takes them out too.")
    .version(false)
    .option('backend', { type: 'string', describe: 'nft or iptables (default: nft when installed)', requiresArg: true })
    .option('port', { type: 'string', describe: "the proxy's listen port (default: the first of the service's own options, else 5000)", requiresArg: true })
    .option('interface', { alias: 'i', type: 'string', describe: 'intercept what arrives on IF only, the side of the clients (repeatable); install needs this or --all-interfaces', requiresArg: true })
    .option('all-interfaces', { type: 'boolean', default: false, describe: 'intercept what arrives on every interface, the WAN side too (diverted connections skip the FORWARD chain: see the README)' })
    .option('ports', { type: 'string', describe: 'intercept only these destination ports: 80,443,8000-8100', requiresArg: true })
    .option('exclude-ports', { type: 'string', describe: 'never intercept these destination ports', requiresArg: true })
    .option('exclude-source', { type: 'string', describe: 'never intercept from this network (repeatable)', requiresArg: true })
    .option('exclude-destination', { type: 'string', describe: 'never intercept to this network (repeatable)', requiresArg: true })
    .option('fwmark', { type: 'string', default: '1', describe: 'the mark that routes packets to the local stack', requiresArg: true })
    .option('table', { type: 'string', default: '100', describe: 'the routing table for marked packets', requiresArg: true })
    .option('config', { type: 'string', describe: "the service's configuration file (default: as the service reads it)", requiresArg: true })
    .option('service-options', { type: 'string', describe: "the service's own command-line options as one argument, --service-options='-b [::]:6000' (the unit passes DAEMON_OPTS): for its listen port, --mark and snoop", requiresArg: true })
    .option('dry-run', { type: 'boolean', default: false, describe: 'print the commands instead of running them' })
    .help('help')
    .alias('help', 'h')
    .strictOptions()
    .fail((message, err) => failAsUsage(message, err))
    .parseSync();
}

/** The service's options as it will run: its command line <words>, environment and configuration. */
function serviceOptions(words: string, config: string | undefined): ServiceOptions {
  let args;
  try {
    args = parseServiceArgs(words.split(/\s+/).filter(Boolean));
  } catch (err) {
    throw err instanceof UsageError ? new UsageError(`--service-options: ${err.message}`) : err;
  }
  return loadServiceOptions(serviceGiven(args), config ?? argLast(args.config) ?? null, process.env, addon()).options;
}

/** Which interfaces install diverts on: a choice is required, never every interface by default. */
function interfaces(required: boolean, given: string[], all: boolean): string[] {
  const list = parseInterfaces(given, '--interface');
  if (all && list.length) throw new UsageError('--interface and --all-interfaces: give one of them');
  if (required && !all && !list.length) {
    throw new UsageError('rules install: say where the clients are, --interface IF (repeatable), or --all-interfaces to intercept on every interface, the WAN side too');
  }
  return list;
}

/** Snoop's queue rules: the TCP forwarded through its lossy side(s), never its own retransmissions. */
function snoopRules(snoop: SnoopService, backend: QueueBackend | undefined): PacketRuleOptions {
  return { queue: snoop.queue, forwardInterfaces: [...snoop.settings.interfaces], icmpRelated: false, injectionMark: INJECTION_MARK, backend };
}

/** The actions that change something, and what each says when done. */
const CHANGES = {
  install: { run: installRules, done: 'installed' },
  drain: { run: drainRules, done: 'drained' },
  remove: { run: removeRules, done: 'removed' },
} as const;
type Action = keyof typeof CHANGES | 'status';

export async function runRulesCommand(argv: string[]): Promise<number> {
  const args = parse(argv);
  const action = String(args._[0] ?? '') as Action;
  if (!['install', 'drain', 'remove', 'status'].includes(action) || args._.length > 1) {
    throw new UsageError(`rules: say install, drain, remove or status${action ? ` (not '${args._.join(' ')}')` : ''}`);
  }
  const exec = new Exec(args.dryRun);
  const given = argLast(args.backend);
  const backend = given ?? (await defaultBackend(exec));
  if (backend !== 'nft' && backend !== 'iptables') throw new UsageError(`--backend: '${backend}' is not one of nft, iptables`);
  // drain and remove do without the service's options: the unit's ExecStop lines pass none.
  const service = action === 'install' || action === 'status' ? serviceOptions(argLast(args.serviceOptions) ?? '', argLast(args.config)) : null;
  const proxy = service ? service.proxy : null;
  const tproxy = service === null || proxy !== null;
  const snoop = service?.snoop ?? null;
  const queueBackend = given === undefined ? undefined : backend;   // else the one the kernel takes
  const options: RuleOptions = {
    backend,
    port: 0,
    interfaces: interfaces(action === 'install' && tproxy, argList(args.interface), args.allInterfaces),
    ports: parsePorts(argList(args.ports), '--ports'),
    excludePorts: parsePorts(argList(args.excludePorts), '--exclude-ports'),
    excludeSources: parseNetworks(argList(args.excludeSource), '--exclude-source'),
    excludeDestinations: parseNetworks(argList(args.excludeDestination), '--exclude-destination'),
    fwmark: wholeNumber(argLast(args.fwmark), '--fwmark', 1, 0xffffffff),
    table: checkTable(wholeNumber(argLast(args.table), '--table', 0, 0xfffffffe), '--table'),
  };
  if (action === 'install' && proxy) {
    const port = argLast(args.port);
    options.port = port !== undefined ? wholeNumber(port, '--port', 1, 65535) : (proxy.listen[0]?.port ?? 5000);
    checkServerMark(options.fwmark, proxy.engine.mark);
  }
  const done: string[] = [];
  try {
    if (action === 'status') {
      const parts = [
        ...(tproxy ? [await rulesStatus(exec, options)] : []),
        ...(snoop ? [await packetRulesStatus(exec, { backend: queueBackend })] : []),
      ];
      process.stdout.write(parts.flatMap((p) => p.lines).join('\n') + '\n');
      return parts.every((p) => p.installed) ? 0 : 1;
    }
    if (tproxy) {
      const warnings = await CHANGES[action].run(exec, options);
      for (const w of Array.isArray(warnings) ? warnings : []) process.stderr.write(`tcp-intercept: rules ${action}: warning: ${w}\n`);
      done.push(action === 'install' ? `${backend}, port ${options.port}` : backend);
    }
    if (action === 'install' && snoop) {
      const used = await installPacketRules(exec, snoopRules(snoop, queueBackend));
      done.push(`snoop ${describeQueues(snoop.queue)} on ${snoop.settings.interfaces.join(', ')}, ${used}`);
    }
    if (action === 'remove') await removePacketRules(exec);
  } catch (err) {
    throw new StartupError(`rules ${action}: ${(err as Error).message}`, 'TI_ERR_RULES');
  }
  if (exec.dryRun) process.stdout.write(exec.printed.join('\n') + '\n');
  else process.stdout.write(`rules ${CHANGES[action].done} (${done.join('; ')})\n`);
  return 0;
}
