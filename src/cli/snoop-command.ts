// `tcp-intercept snoop`: snoop on its own, for a lab or a quick try. It binds its queue, installs
// the queue rules for the lossy side(s), runs the pipeline with the snoop stage on the host until
// SIGINT or SIGTERM, removes the rules (on every path once installed) and prints what it did.
// Exit status: 0 done, 64 usage, 69 the queue cannot be bound (busy), 71 other system errors
// (the rules), 77 no permission.
import yargs from 'yargs';
import { buildHostOptions } from '../config/host-options.js';
import { loadValues } from '../config/load-options.js';
import { INJECTION_MARK } from '../config/marks.js';
import { SNOOP_OPTIONS, SNOOP_QUEUE, SNOOP_QUEUE_OPTIONS, standaloneHostOptions } from '../config/option-table.js';
import { buildQueueOptions } from '../config/queue-options.js';
import { buildSnoopSettings } from '../config/snoop-options.js';
import type { Values } from '../config/values.js';
import { UsageError } from '../errors.js';
import { runHost } from '../host/run-host.js';
import { describeQueues } from '../nfq/queue.js';
import { PipelineComponent } from '../pipeline/pipeline-component.js';
import { Exec } from '../rules/exec.js';
import { QueueRulesComponent } from '../rules/queue-rules-component.js';
import type { SnoopSettings } from '../snoop/snoop-settings.js';
import { SnoopStage } from '../snoop/snoop-stage.js';
import { argLast, failAsUsage } from './arg-values.js';
import { defineOptions, givenOptions } from './command-options.js';
import { packageVersion } from './version.js';

/** A standalone tool: no metrics endpoint unless asked, quiet logs, one process. */
const OPTIONS = [
  ...SNOOP_OPTIONS,
  ...SNOOP_QUEUE_OPTIONS,
  ...standaloneHostOptions({ metrics: 'off', 'log-level': 'warn' }),
];

function parse(argv: string[]) {
  return defineOptions(yargs(argv).version(false), OPTIONS)
    .option('config', { type: 'string', describe: 'configuration file to read options from', requiresArg: true })
    .scriptName('tcp-intercept snoop')
    .usage('tcp-intercept snoop --snoop-interface IF [--queue N|FIRST:LAST] [--queue-maxlen N] [--snoop-cache-size BYTES] [--snoop-flow-cache BYTES] [--snoop-min-rto MS] [--snoop-max-retransmits N]\n\n' +
      'Berkeley snoop on this router: caches the TCP data it forwards out of IF, the lossy last hop, sends it again from here on duplicate ACKs and local timeouts, and keeps those duplicate ACKs from the sender. ' +
      `Installs its own queue rules (TCP forwarded in or out of IF, to NFQUEUE --queue, default ${SNOOP_QUEUE}) and removes them when stopped (SIGINT, SIGTERM); then prints what it did. ` +
      "The service's snoop (tcp-intercept --snoop-interface IF) uses the same rules: run one of the two.")
    .help('help')
    .alias('help', 'h')
    .strict()
    .fail((message, err) => failAsUsage(message, err))
    .parseSync();
}

function snoopSettings(v: Values): SnoopSettings {
  const settings = buildSnoopSettings(v);
  if (settings === null) throw new UsageError('snoop: --snoop-interface IF is required (the lossy side)');
  return settings;
}

export async function runSnoopCommand(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args._.length > 0) throw new UsageError(`snoop: unexpected argument '${String(args._[0])}'`);
  const given = givenOptions(args as Record<string, unknown>, OPTIONS);
  const load = () => loadValues(OPTIONS, given, argLast(args.config) ?? null, process.env, false);
  const { values } = load();
  const host = buildHostOptions(values);
  const settings = snoopSettings(values);
  const { queue, maxLen } = buildQueueOptions(values);
  const stage = new SnoopStage(settings);
  const pipeline = new PipelineComponent({ queue, maxLen, injectionMark: INJECTION_MARK }, [stage]);
  const rules = new QueueRulesComponent(new Exec(false), { queue, forwardInterfaces: [...settings.interfaces], icmpRelated: false, injectionMark: INJECTION_MARK });
  const run = runHost({
    options: host,
    components: [pipeline, rules],
    version: packageVersion(),
    printReports: true,
    onReady: () => process.stdout.write(`tcp-intercept snoop: ${describeQueues(queue)}: ${stage.describe()}\n`),
    reload: () => {
      const { values: v, file } = load();
      const q = buildQueueOptions(v);
      return { host: buildHostOptions(v), parts: { pipeline: { ...q, injectionMark: INJECTION_MARK, stages: { snoop: snoopSettings(v) } } }, file };
    },
  });
  // Once installed, the rules go on every path; a failure to start is the error to report.
  await run.catch(async (err: unknown) => {
    await rules.remove().catch(() => undefined);
    throw err;
  });
  await rules.remove();
  return 0;
}
