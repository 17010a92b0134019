// `tcp-intercept [options]`: the service, as the .deb runs it. Its components (the proxy; the
// packet stages as they arrive) run on one host in one process, or under a --workers supervisor.
import yargs from 'yargs';
import { loadServiceOptions, type ServiceOptions } from '../config/load-options.js';
import { DEFAULT_CONFIG_FILE, SERVICE_OPTIONS, type OptionDef } from '../config/option-table.js';
import { derivedMaxConnections, pipeBudget } from '../config/resource-budget.js';
import { readSystemLimits } from '../config/system-limits.js';
import { UsageError } from '../errors.js';
import type { Component } from '../host/component.js';
import { runHost } from '../host/run-host.js';
import { runSupervisor, WORKER_ENV } from '../host/supervisor.js';
import { addon } from '../native/addon.js';
import { ProxyComponent } from '../proxy/proxy-component.js';
import { argLast, failAsUsage } from './arg-values.js';
import { defineOptions, givenOptions } from './command-options.js';
import { packageVersion, versionText } from './version.js';

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

function parse(argv: string[]) {
  return defineOptions(yargs(argv).version(false), helpOptions())
    .option('config', { type: 'string', describe: `configuration file (default ${DEFAULT_CONFIG_FILE} when present)`, requiresArg: true })
    .option('version', { alias: 'V', type: 'boolean', describe: 'print the version and exit' })
    .scriptName('tcp-intercept')
    .usage('$0 [options]\n$0 rules install|remove|status [options]   (see: $0 rules --help)\n$0 emulate --queue N [--delay MS] [--jitter MS] [--loss PERCENT] [--burst P_ENTER,P_EXIT] [--rate MBIT]   (see: $0 emulate --help)\n\nTransparent TCP proxy: relays connections that TPROXY hands over, each leg with its own TCP options.\nEvery option can also be set in the configuration file (same name) or as TCP_INTERCEPT_<NAME>; the command line wins, then the environment, then the file.')
    .help('help')
    .alias('help', 'h')
    .strict()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((message, err) => failAsUsage(message, err, tidy))
    .parseSync();
}

/** In a --workers worker: no pid file, and every log line says which worker. */
function asWorker(o: ServiceOptions, worker: string | undefined): ServiceOptions {
  if (worker === undefined) return o;
  return { ...o, host: { ...o.host, workers: 1, pidFile: null, log: { ...o.host.log, worker: Number(worker) } } };
}

function components(o: ServiceOptions): Component[] {
  return o.proxy ? [new ProxyComponent(o.proxy, addon())] : [];
}

export async function runServiceCommand(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args.version) {
    process.stdout.write(versionText() + '\n');
    return 0;
  }
  if (args._.length > 0) throw new UsageError(`unexpected argument '${String(args._[0])}'`);
  const given = givenOptions(args as Record<string, unknown>, SERVICE_OPTIONS);
  const configFile = argLast(args.config) ?? null;
  const load = () => loadServiceOptions(given, configFile, process.env, addon());
  const worker = process.env[WORKER_ENV];
  const options = asWorker(load().options, worker);
  if (worker === undefined && options.host.workers > 1) {
    await runSupervisor(options.host);
    return 0;
  }
  await runHost({
    options: options.host,
    components: components(options),
    version: packageVersion(),
    reload: () => {
      const { options: o, file } = load();
      const next = asWorker(o, worker);
      return { host: next.host, parts: { proxy: next.proxy }, file };
    },
  });
  return 0;
}
