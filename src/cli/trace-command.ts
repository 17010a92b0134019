// `tcp-intercept trace DEST`: a traceroute that rides a live TCP flow to DEST through this box
// (forwarded, or its own sockets such as the proxy's server legs). It binds its queue, installs
// queue rules for DEST's TCP and the ICMP errors about it, waits up to --wait for an established
// flow, traces it, prints a table (or JSON lines), removes the rules on every path and exits:
// 0 destination reached, 1 traced but not reached, 75 no live flow, 64 usage, 69 queue busy,
// 77 no permission.
import yargs from 'yargs';
import { buildHostOptions } from '../config/host-options.js';
import { loadValues } from '../config/load-options.js';
import { INJECTION_MARK } from '../config/marks.js';
import { HOST_OPTIONS, QUEUE_OPTIONS, withDefaults } from '../config/option-table.js';
import { buildQueueOptions } from '../config/queue-options.js';
import { wholeNumber } from '../config/numbers.js';
import { UsageError } from '../errors.js';
import { runHost } from '../host/run-host.js';
import { PipelineComponent } from '../pipeline/pipeline-component.js';
import { Exec } from '../rules/exec.js';
import { QueueRulesComponent } from '../rules/queue-rules-component.js';
import { parseDestination, type Destination } from '../trace/destination.js';
import { doneLine, headerLine, hopLine } from '../trace/trace-format.js';
import type { DoneRecord, HopRecord, TraceRecord } from '../trace/trace-records.js';
import { TRACE_DEFAULTS, type TraceSettings } from '../trace/trace-settings.js';
import { TraceStage } from '../trace/trace-stage.js';
import { argLast, failAsUsage } from './arg-values.js';
import { defineOptions, givenOptions } from './command-options.js';
import { packageVersion } from './version.js';

/** Trace's queue when none is given: next to snoop's 16. */
export const TRACE_QUEUE = 17;
export const EXIT_NO_FLOW = 75;

const OPTIONS = [
  ...withDefaults(QUEUE_OPTIONS, { queue: String(TRACE_QUEUE) }),
  ...withDefaults(HOST_OPTIONS, { metrics: 'off', 'log-level': 'warn', 'drain-timeout': '2' }).filter((o) => !['workers', 'foreground'].includes(o.key)),
];

function parse(argv: string[]) {
  return defineOptions(yargs(argv).version(false), OPTIONS)
    .option('port', { alias: 'p', type: 'string', requiresArg: true, describe: "the flow's TCP port at DEST (default: any)" })
    .option('max-ttl', { alias: 'm', type: 'string', requiresArg: true, describe: 'highest TTL (hop limit) to probe', defaultDescription: String(TRACE_DEFAULTS.maxTtl) })
    .option('probes', { alias: 'q', type: 'string', requiresArg: true, describe: 'probes per TTL; the share unanswered is the loss shown per hop', defaultDescription: String(TRACE_DEFAULTS.probesPerTtl) })
    .option('wait', { alias: 'w', type: 'string', requiresArg: true, describe: 'seconds to wait for a live flow to DEST', defaultDescription: '30' })
    .option('probe-timeout', { type: 'string', requiresArg: true, describe: 'milliseconds a probe waits for its answer', defaultDescription: String(TRACE_DEFAULTS.probeTimeoutMs) })
    .option('json', { type: 'boolean', describe: 'JSON lines: one {"type":"hop"} per TTL, then {"type":"done"}' })
    .option('config', { type: 'string', describe: 'configuration file to read options from', requiresArg: true })
    .scriptName('tcp-intercept trace')
    .usage('tcp-intercept trace DEST [--port P] [--max-ttl N] [--probes N] [--wait S] [--json]\n\n' +
      'Traces the path to DEST along a live TCP flow that this box carries, without opening a connection: copies of the ' +
      "flow's headers go out with low TTLs and the routers' ICMP time-exceeded answers are read (and kept from the client); " +
      'the flow itself loses nothing. Exit status: 0 reached, 1 not reached, 75 no live flow within --wait, 64 usage, 77 no permission.')
    .help('help')
    .alias('help', 'h')
    .strictOptions()
    .fail((message, err) => failAsUsage(message, err))
    .parseSync();
}

interface TraceArgs { destination: Destination; port: number; settings: TraceSettings; waitMs: number; json: boolean }

function traceArgs(args: ReturnType<typeof parse>): TraceArgs {
  if (args._.length !== 1) throw new UsageError(args._.length ? `trace: one destination, not '${args._.join(' ')}'` : 'trace: say which destination, a numeric IPv4 or IPv6 address');
  const destination = parseDestination(String(args._[0]));
  if (destination === null) throw new UsageError(`trace: '${String(args._[0])}' is not a numeric IPv4 or IPv6 address`);
  const port = argLast(args.port);
  return {
    destination,
    port: port === undefined ? 0 : wholeNumber(port, '--port', 1, 65535),
    settings: {
      ...TRACE_DEFAULTS,
      maxTtl: wholeNumber(argLast(args.maxTtl) ?? TRACE_DEFAULTS.maxTtl, '--max-ttl', 1, 255),
      probesPerTtl: wholeNumber(argLast(args.probes) ?? TRACE_DEFAULTS.probesPerTtl, '--probes', 1, 10),
      probeTimeoutMs: wholeNumber(argLast(args.probeTimeout) ?? TRACE_DEFAULTS.probeTimeoutMs, '--probe-timeout', 10, 60_000),
    },
    waitMs: wholeNumber(argLast(args.wait) ?? '30', '--wait', 0, 86_400) * 1000,
    json: args.json === true,
  };
}

/** Prints records: JSON lines as they come, or the table once the trace is done. */
function printer(t: TraceArgs): (r: TraceRecord) => void {
  const hops: HopRecord[] = [];
  return (r) => {
    if (t.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else if (r.type === 'hop') hops.push(r);
    else if (r.reason === 'no-flow') process.stderr.write(`${doneLine(r)}\n`);
    else process.stdout.write([headerLine(r, t.settings.probesPerTtl), ...hops.map(hopLine), doneLine(r)].join('\n') + '\n');
  };
}

export async function runTraceCommand(argv: string[]): Promise<number> {
  const args = parse(argv);
  const t = traceArgs(args);
  const given = givenOptions(args as Record<string, unknown>, OPTIONS);
  const { values } = loadValues(OPTIONS, given, argLast(args.config) ?? null, process.env, false);
  const host = buildHostOptions(values);
  const { queue, maxLen } = buildQueueOptions(values);
  const stage = new TraceStage({ probesPerSecond: TRACE_DEFAULTS.probesPerSecond });
  const pipeline = new PipelineComponent({ queue, maxLen, injectionMark: INJECTION_MARK }, [stage]);
  const rules = new QueueRulesComponent(new Exec(false), {
    set: 'trace', queue, forwardInterfaces: [], addresses: [t.destination.text], local: true, icmpRelated: true, injectionMark: INJECTION_MARK,
  });
  const print = printer(t);
  let done: DoneRecord | null = null;
  const run = runHost({
    options: host,
    components: [pipeline, rules],
    version: packageVersion(),
    onReady: (stop) => {
      stage.request({
        destination: t.destination.bytes, destinationText: t.destination.text, port: t.port, settings: t.settings, waitMs: t.waitMs,
        onRecord: (r) => {
          print(r);
          if (r.type === 'done') {
            done = r;
            stop('trace done');
          }
        },
      });
    },
    reload: () => ({ host, parts: {}, file: null }),
  });
  await run.catch(async (err: unknown) => {
    await rules.remove().catch(() => undefined);
    throw err;
  });
  await rules.remove();
  const result = done as DoneRecord | null;
  if (result === null) return 1;
  if (result.reason === 'no-flow') return EXIT_NO_FLOW;
  return result.reached ? 0 : 1;
}
