// Entry point: parse, validate, run. Usage mistakes exit 64 with one line, as the original did.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { buildProxyOptions, type RawOptions } from '../config/proxy-options.js';
import { TiError, UsageError } from '../errors.js';
import { addon } from '../native/addon.js';
import { defineRunOptions } from './run-options.js';
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

/**
 * yargs turns a repeated option into an array. -b/--bind-listen is meant to repeat; for every
 * other option the last value wins, as in most tools.
 */
function lastValueWins(args: Record<string, unknown>): RawOptions {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    out[key] = Array.isArray(value) && key !== '_' ? value[value.length - 1] : value;
  }
  out.bindListen = ([] as string[]).concat(args.bindListen as string | string[]);
  return out as unknown as RawOptions;
}

function parse(argv: string[]) {
  return defineRunOptions(yargs(argv).version(false))
    .scriptName('tcp-intercept')
    .usage('$0 [options]\n\nTransparent TCP proxy: relays connections that TPROXY hands over, each leg with its own TCP options.')
    .help('help')
    .alias('help', 'h')
    .strict()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((message, err) => {
      if (err instanceof TiError) throw err;
      throw new UsageError(tidy((message ?? err?.message ?? 'bad arguments').replace(/\s*\n\s*/g, '; ')));
    })
    .parseSync();
}

async function main(): Promise<number> {
  const args = parse(hideBin(process.argv));
  if (args.version) {
    process.stdout.write(versionText() + '\n');
    return 0;
  }
  if (args._.length > 0) throw new UsageError(`unexpected argument '${String(args._[0])}'`);
  const options = buildProxyOptions(lastValueWins(args as unknown as Record<string, unknown>), addon());
  const worker = process.env[WORKER_ENV];
  if (worker !== undefined) {
    await runProxy({ ...options, workers: 1, pidFile: null, log: { ...options.log, worker: Number(worker) } });
  } else if (options.workers > 1) {
    await runSupervisor(options);
  } else {
    await runProxy(options);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof TiError) {
      const hint = err instanceof UsageError ? " (see 'tcp-intercept --help')" : '';
      process.stderr.write(`tcp-intercept: ${err.message}${hint}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`tcp-intercept: internal error: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(70);
  },
);
