// The service's command line: parsed for the service itself, and for `rules install`, which takes
// the listen port and the server-leg mark from the same options (DAEMON_OPTS in the unit).
import yargs from 'yargs';
import { DEFAULT_CONFIG_FILE, SERVICE_OPTIONS, type OptionDef } from '../config/option-table.js';
import { derivedMaxConnections, pipeBudget } from '../config/resource-budget.js';
import { readSystemLimits } from '../config/system-limits.js';
import type { OptionValue } from '../config/sources.js';
import { failAsUsage } from './arg-values.js';
import { defineOptions, givenOptions } from './command-options.js';

/** yargs names an unknown option twice (such-flag, suchFlag): keep the spelling the user typed. */
function tidy(message: string): string {
  const m = /^Unknown arguments?: (.*)$/.exec(message);
  if (!m) return message;
  const names = m[1].split(', ');
  const kebab = (n: string): string => n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const kept = names.filter((n) => n === kebab(n) || !names.includes(kebab(n)));
  return `Unknown argument${kept.length > 1 ? 's' : ''}: ${kept.join(', ')}`;
}

/** The table, with what 'auto' comes to on this host in the help of max-connections. */
function helpOptions(): OptionDef[] {
  const limits = readSystemLimits();
  const here = derivedMaxConnections(limits, pipeBudget(1 << 20, 1, limits));
  return SERVICE_OPTIONS.map((d) => (d.key === 'max-connections' ? { ...d, describe: `${d.describe} (auto here ${here} with the default buffer-size and one worker)` } : d));
}

export function parseServiceArgs(argv: string[]) {
  return defineOptions(yargs(argv).version(false), helpOptions())
    .option('config', { type: 'string', describe: `configuration file (default ${DEFAULT_CONFIG_FILE} when present)`, requiresArg: true })
    .option('version', { alias: 'V', type: 'boolean', describe: 'print the version and exit' })
    .scriptName('tcp-intercept')
    .usage('$0 [options]\n$0 rules install|drain|remove|status [options]   (see: $0 rules --help)\n$0 emulate --queue N [--delay MS] [--jitter MS] [--loss PERCENT] [--burst P_ENTER,P_EXIT] [--rate MBIT]   (see: $0 emulate --help)\n$0 snoop --snoop-interface IF [--queue N|FIRST:LAST] [--snoop-* tuning]   (see: $0 snoop --help)\n$0 doctor [--path RTT,RATE] [--interface IF] [--json] [options]   checks this box (see: $0 doctor --help)\n$0 status [--control-socket PATH] [--json]   asks the running service (see: $0 status --help)\n\nTransparent TCP proxy: relays connections that TPROXY hands over, each leg with its own TCP options. ' +
      'With --snoop-interface IF it also runs snoop on the TCP forwarded through IF, a lossy last hop: segments lost there are sent again from this router (on NFQUEUE --queue, whose rules $0 rules install adds).\n' +
      'Every option can also be set in the configuration file (same name) or as TCP_INTERCEPT_<NAME>; the command line wins, then the environment, then the file.')
    .help('help')
    .alias('help', 'h')
    .strict()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((message, err) => failAsUsage(message, err, tidy))
    .parseSync();
}

/** The service options typed on a command line, by long name. */
export const serviceGiven = (args: ReturnType<typeof parseServiceArgs>): Record<string, OptionValue> =>
  givenOptions(args as Record<string, unknown>, SERVICE_OPTIONS);
