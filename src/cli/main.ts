// Entry point: the service, or a subcommand. Every failure is a TiError with a stable code
// (docs/errors.md): one line on stderr and its exit status; anything else is an internal error (70).
import { TiError, UsageError } from '../errors.js';
import { runDoctorCommand } from './doctor-command.js';
import { runEmulateCommand } from './emulate-command.js';
import { runRulesCommand } from './rules-command.js';
import { runServiceCommand } from './service-command.js';
import { runSnoopCommand } from './snoop-command.js';
import { runStatusCommand } from './status-command.js';
import { runTraceCommand } from './trace-command.js';

const SUBCOMMANDS = new Map([
  ['rules', runRulesCommand], ['emulate', runEmulateCommand], ['snoop', runSnoopCommand], ['doctor', runDoctorCommand],
  ['status', runStatusCommand], ['trace', runTraceCommand],
]);

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const subcommand = SUBCOMMANDS.get(argv[0]);
  return subcommand ? subcommand(argv.slice(1)) : runServiceCommand(argv);
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
