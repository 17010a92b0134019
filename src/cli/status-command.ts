// `tcp-intercept status`: asks the running service over its control socket what it runs.
// Exit status: 0 it answered, 3 no service answers (as `systemctl status` for a stopped unit),
// 64 usage, 69 no answer in time, 77 no permission on the socket.
import yargs from 'yargs';
import { clientControlSocket } from '../config/control-socket.js';
import { loadValues } from '../config/load-options.js';
import { CONTROL_CLIENT_OPTIONS } from '../config/option-table.js';
import { TiError, UsageError } from '../errors.js';
import { askService } from '../control/control-client.js';
import type { ControlRecord } from '../control/control-protocol.js';
import type { StatusRecord } from '../control/status-handler.js';
import { argLast, failAsUsage } from './arg-values.js';
import { defineOptions, givenOptions } from './command-options.js';

/** The LSB status code for "program is not running". */
export const EXIT_NOT_RUNNING = 3;
const TIMEOUT_MS = 5000;

function parse(argv: string[]) {
  return defineOptions(yargs(argv).version(false), CONTROL_CLIENT_OPTIONS)
    .option('json', { type: 'boolean', default: false, describe: 'the answer as one JSON object' })
    .option('config', { type: 'string', describe: 'configuration file to read control-socket from', requiresArg: true })
    .scriptName('tcp-intercept status')
    .usage('tcp-intercept status [--control-socket PATH] [--json]\n\n' +
      "Asks the running service, over its control socket, for its version, process and each component's status. " +
      `Exit status 0: it answered; ${EXIT_NOT_RUNNING}: no service answers on the socket; 77: no permission on it (root or the group _tcp-intercept may connect).`)
    .help('help')
    .alias('help', 'h')
    .strict()
    .fail((message, err) => failAsUsage(message, err))
    .parseSync();
}

function text(s: StatusRecord): string {
  const lines = [`tcp-intercept ${s.version}: running, pid ${s.pid}, up ${s.uptimeSeconds} s`];
  for (const c of s.components) lines.push(`  ${c.name}: ${c.status}`);
  return `${lines.join('\n')}\n`;
}

export async function runStatusCommand(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args._.length > 0) throw new UsageError(`status: unexpected argument '${String(args._[0])}'`);
  const given = givenOptions(args as Record<string, unknown>, CONTROL_CLIENT_OPTIONS);
  const { values } = loadValues(CONTROL_CLIENT_OPTIONS, given, argLast(args.config) ?? null, process.env, false);
  const path = clientControlSocket(values);
  if (path === null) {
    process.stderr.write('tcp-intercept status: the control socket is off: no service to ask\n');
    return EXIT_NOT_RUNNING;
  }
  const records: ControlRecord[] = [];
  const status = await askService(path, 'status', {}, (r) => records.push(r), { timeoutMs: TIMEOUT_MS });
  const answer = records.find((r): r is StatusRecord => r.type === 'status');
  if (status === null) {
    process.stderr.write(`tcp-intercept status: no service answers on ${path}\n`);
    return EXIT_NOT_RUNNING;
  }
  if (!answer) throw new TiError(`the service on ${path} answered without its status`, 'TI_ERR_CONTROL_NO_ANSWER');
  process.stdout.write(args.json ? `${JSON.stringify(answer)}\n` : text(answer));
  return status;
}
