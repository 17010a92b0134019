// Entry point: parse, load the configuration, run. Usage mistakes exit 64 and configuration
// mistakes 78, each with one line, as the original did.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadProxyOptions } from '../config/load-options.js';
import { TiError, UsageError } from '../errors.js';
import { addon } from '../native/addon.js';
import { argLast, failAsUsage } from './arg-values.js';
import { runEmulateCommand } from './emulate-command.js';
import { runRulesCommand } from './rules-command.js';
import { defineRunOptions, givenOptions } from './run-options.js';
import { runProxy } from './run.js';
import { runSupervisor, WORKER_ENV } from './supervisor.js';
import { versionText } from './version.js';

/** yargs names an unknown option twice (such-flag, suchFlag): keep the spelling the user typed. */
function tidy(message: string): string {
  const m = /^Unknown arguments?: (.*)$/.exec(message);
  if (!m) return message;
  const names = m[1].split(', ');
  const kebab = (n: string): string => n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const kept = names.filter((n) => n === kebab(n) || !names.includes(kebab(n)));
  return `Unknown argument${kept.length > 1 ? 's' : ''}: ${kept.join(', ')}`;
}

function parse(argv: string[]) {
  return defineRunOptions(yargs(argv).version(false))
    .scriptName('tcp-intercept')
    .usage('$0 [options]\n$0 rules install|remove|status [options]   (see: $0 rules --help)\n$0 emulate --queue N [--delay MS] [--jitter MS] [--loss PERCENT] [--burst P_ENTER,P_EXIT] [--rate MBIT]   (see: $0 emulate --help)\n\nTransparent TCP proxy: relays connections that TPROXY hands over, each leg with its own TCP options.\nEvery option can also be set in the configuration file (same name) or as TCP_INTERCEPT_<NAME>; the command line wins, then the environment, then the file.')
    .help('help')
    .alias('help', 'h')
    .strict()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((message, err) => failAsUsage(message, err, tidy))
    .parseSync();
}

const SUBCOMMANDS = new Map([['rules', runRulesCommand], ['emulate', runEmulateCommand]]);

async function main(): Promise<number> {
  const argv = hideBin(process.argv);
  const subcommand = SUBCOMMANDS.get(argv[0]);
  if (subcommand) return subcommand(argv.slice(1));
  const args = parse(argv);
  if (args.version) {
    process.stdout.write(versionText() + '\n');
    return 0;
  }
  if (args._.length > 0) throw new UsageError(`unexpected argument '${String(args._[0])}'`);
  const given = givenOptions(args as Record<string, unknown>);
  const configFile = argLast(args.config) ?? null;
  const load = () => loadProxyOptions(given, configFile, process.env, addon());
  const { options } = load();
  const worker = process.env[WORKER_ENV];
  if (worker !== undefined) {
    const asWorker = (o: typeof options) => ({ ...o, workers: 1, pidFile: null, log: { ...o.log, worker: Number(worker) } });
    await runProxy(asWorker(options), () => {
      const reloaded = load();
      return { ...reloaded, options: asWorker(reloaded.options) };
    });
  } else if (options.workers > 1) {
    await runSupervisor(options);
  } else {
    await runProxy(options, load);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof TiError) {
      const sub = SUBCOMMANDS.has(process.argv[2]) ? process.argv[2] : undefined;
      const hint = err instanceof UsageError ? ` (see 'tcp-intercept ${sub ? `${sub} ` : ''}--help')` : '';
      process.stderr.write(`tcp-intercept: ${err.message}${hint}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`tcp-intercept: internal error: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(70);
  },
);
