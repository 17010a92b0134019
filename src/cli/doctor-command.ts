// `tcp-intercept doctor`: checks this box for the service as an operator would and prints each
// finding with what to change. It reads the service's options as the service does (its
// configuration, TCP_INTERCEPT_* variables, and the same flags given here) and changes nothing.
// Exit status: 0 nothing to change, 1 something will not work or will be slow, 64 usage.
import yargs from 'yargs';
import { loadValues } from '../config/load-options.js';
import { wholeNumber } from '../config/numbers.js';
import { SERVICE_OPTIONS } from '../config/option-table.js';
import { runDoctor } from '../doctor/doctor.js';
import { hostSystem } from '../doctor/host-system.js';
import { parsePath, readSettings, type OperatorSettings } from '../doctor/read-settings.js';
import { jsonReport, textReport } from '../doctor/report.js';
import { ConfigError, UsageError } from '../errors.js';
import { Exec } from '../rules/exec.js';
import { checkTable, parseInterfaces, type RuleOptions } from '../rules/rule-options.js';
import { defaultBackend } from '../rules/rules.js';
import { argLast, argList, failAsUsage } from './arg-values.js';
import { defineOptions, givenOptions } from './command-options.js';

function parse(argv: string[]) {
  return defineOptions(yargs(argv).version(false), SERVICE_OPTIONS)
    .scriptName('tcp-intercept doctor')
    .usage('tcp-intercept doctor [--path RTT,RATE] [--interface IF] [--json] [service options]\n\n' +
      'Checks this box for tcp-intercept and prints each finding (ok, info, warn, FAIL) with what to change: forwarding, rp_filter on the diverted interfaces, early demux, TPROXY and socket support (nft or iptables), the queue for snoop, ' +
      "the legs' congestion controls, socket buffers against a long path, the pipe quota, the open-file limit, the conntrack table, the running service's capabilities and its rules. " +
      "It reads the service's options as the service does (its configuration file, TCP_INTERCEPT_* variables, and the service's flags given here: --cc-server bbr --sndbuf-server 32M) and changes nothing. " +
      'Exit status 0: nothing to change; 1: something will not work or will be slow; 64: usage.')
    .option('path', { type: 'string', describe: 'a long path to size the socket buffers for: round-trip milliseconds and Mbit/s, e.g. 300,100', requiresArg: true })
    .option('interface', { alias: 'i', type: 'string', describe: 'an interface connections are diverted on, as given to rules install (repeatable; default: every one)', requiresArg: true })
    .option('backend', { type: 'string', describe: 'the rules backend: nft or iptables (default: nft when installed)', requiresArg: true })
    .option('fwmark', { type: 'string', default: '1', describe: 'the mark the rules route to the local stack, as given to rules install', requiresArg: true })
    .option('table', { type: 'string', default: '100', describe: 'the routing table of the rules, as given to rules install', requiresArg: true })
    .option('json', { type: 'boolean', default: false, describe: 'one JSON object per line for each finding, then a summary' })
    .option('config', { type: 'string', describe: "the service's configuration file (default: as the service reads it)", requiresArg: true })
    .help('help')
    .alias('help', 'h')
    .strict()
    .fail((message, err) => failAsUsage(message, err))
    .parseSync();
}

export async function runDoctorCommand(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args._.length > 0) throw new UsageError(`doctor: unexpected argument '${String(args._[0])}'`);
  const path = argLast(args.path);
  const exec = new Exec(false);
  const backend = argLast(args.backend) ?? (await defaultBackend(exec));
  if (backend !== 'nft' && backend !== 'iptables') throw new UsageError(`--backend: '${backend}' is not one of nft, iptables`);
  const rules: RuleOptions = {
    backend, port: 0, interfaces: [], ports: [], excludePorts: [], excludeSources: [], excludeDestinations: [],
    fwmark: wholeNumber(argLast(args.fwmark), '--fwmark', 1, 0xffffffff),
    table: checkTable(wholeNumber(argLast(args.table), '--table', 0, 0xfffffffe), '--table'),
  };
  const operator: OperatorSettings = {
    interfaces: parseInterfaces(argList(args.interface), '--interface'),
    path: path === undefined ? null : parsePath(path, '--path'),
    rules,
    configError: null,
  };
  const given = givenOptions(args as Record<string, unknown>, SERVICE_OPTIONS);
  const settings = (file: string | null, env: NodeJS.ProcessEnv, o: OperatorSettings) => readSettings(loadValues(SERVICE_OPTIONS, given, file, env, true).values, o);
  let s;
  try {
    s = settings(argLast(args.config) ?? null, process.env, operator);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // The service would not start; the rest is still worth checking, with the flags and defaults alone.
    s = settings('/dev/null', {}, { ...operator, configError: err.message });
  }
  const { findings, status } = await runDoctor(hostSystem(), s);
  process.stdout.write(args.json ? jsonReport(findings, status) : textReport(findings));
  return status;
}
