// `tcp-intercept emulate`: a link emulator on an NFQUEUE queue or balanced range (this kernel may
// have no netem), run as a packet stage on the host like any other component.
// The packets reach it through a rule the user adds; one instance per direction. Runs until
// SIGINT or SIGTERM, then releases what it holds and prints what it did. Exit status: 0 done,
// 64 usage, 69 the queue cannot be bound (busy), 71 other system errors, 77 no permission.
import yargs from 'yargs';
import { loadValues } from '../config/load-options.js';
import { buildHostOptions } from '../config/host-options.js';
import { INJECTION_MARK } from '../config/marks.js';
import { EMULATE_OPTIONS, QUEUE_OPTIONS, standaloneHostOptions } from '../config/option-table.js';
import { buildEmulateOptions } from '../emulate/emulate-options.js';
import { EmulatorStage } from '../emulate/emulator.js';
import { seededRandom } from '../emulate/seeded-random.js';
import { UsageError } from '../errors.js';
import { runHost } from '../host/run-host.js';
import { describeQueues } from '../nfq/queue.js';
import { PipelineComponent } from '../pipeline/pipeline-component.js';
import { argLast, failAsUsage } from './arg-values.js';
import { defineOptions, givenOptions } from './command-options.js';
import { packageVersion } from './version.js';

/** A standalone tool: no metrics endpoint unless asked, quiet logs, one process. */
const OPTIONS = [
  ...QUEUE_OPTIONS,
  ...EMULATE_OPTIONS,
  ...standaloneHostOptions({ metrics: 'off', 'log-level': 'warn' }),
];

function parse(argv: string[]) {
  return defineOptions(yargs(argv).version(false), OPTIONS)
    .option('config', { type: 'string', describe: 'configuration file to read options from', requiresArg: true })
    .scriptName('tcp-intercept emulate')
    .usage('tcp-intercept emulate --queue N [--delay MS] [--jitter MS] [--loss PERCENT] [--burst P_ENTER,P_EXIT] [--rate MBIT]\n\n' +
      'Emulates a link on the packets of NFQUEUE queue N: delay with jitter (never reordering), random loss, Gilbert-Elliott burst loss, a rate limit. ' +
      'Add the rule that queues the packets yourself, one instance per direction, e.g.\n' +
      '  iptables -t mangle -A POSTROUTING -o eth1 -j NFQUEUE --queue-num 0 --queue-bypass\n' +
      'A rule with --queue-balance FIRST:LAST is served by --queue FIRST:LAST.\n' +
      'Prints what it did when stopped (SIGINT, SIGTERM).')
    .help('help')
    .alias('help', 'h')
    .strict()
    .fail((message, err) => failAsUsage(message, err))
    .parseSync();
}

export async function runEmulateCommand(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args._.length > 0) throw new UsageError(`emulate: unexpected argument '${String(args._[0])}'`);
  const given = givenOptions(args as Record<string, unknown>, OPTIONS);
  const load = () => loadValues(OPTIONS, given, argLast(args.config) ?? null, process.env, false);
  const { values } = load();
  const host = buildHostOptions(values);
  const emulate = buildEmulateOptions(values);
  const random = emulate.seed === null ? Math.random : seededRandom(emulate.seed);
  const stage = new EmulatorStage(emulate.link, random);
  const pipeline = new PipelineComponent({ queue: emulate.queue, maxLen: emulate.maxLen, injectionMark: INJECTION_MARK }, [stage]);
  await runHost({
    options: host,
    components: [pipeline],
    version: packageVersion(),
    printReports: true,
    onReady: () => process.stdout.write(`tcp-intercept emulate: ${describeQueues(emulate.queue)}: ${stage.describe()}\n`),
    reload: () => {
      const { values: v, file } = load();
      const e = buildEmulateOptions(v);
      return { host: buildHostOptions(v), parts: { pipeline: { queue: e.queue, maxLen: e.maxLen, injectionMark: INJECTION_MARK, stages: { emulate: e.link } } }, file };
    },
  });
  return 0;
}
