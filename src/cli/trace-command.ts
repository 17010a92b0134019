// `tcp-intercept trace DEST`: a traceroute that rides a live TCP flow to DEST through this box
// (forwarded, or its own sockets such as the proxy's server legs). It binds its queue, installs
// queue rules for DEST's TCP and the ICMP errors about it, waits up to --wait for an established
// flow, traces it, prints a table (or JSON lines), removes the rules on every path and exits:
// 0 destination reached, 1 traced but not reached, 75 no live flow, 64 usage, 69 queue busy,
// 77 no permission. When the service runs a pipeline, it does the trace on its own queue instead
// (one binding), asked over the control socket, and this prints its answer.
import yargs from 'yargs';
import { buildHostOptions } from '../config/host-options.js';
import { loadValues } from '../config/load-options.js';
import { INJECTION_MARK } from '../config/marks.js';
import { clientControlSocket } from '../config/control-socket.js';
import { CONTROL_CLIENT_OPTIONS, QUEUE_OPTIONS, standaloneHostOptions, withDefaults } from '../config/option-table.js';
import { buildQueueOptions } from '../config/queue-options.js';
import { askService } from '../control/control-client.js';
import { TiError, UsageError } from '../errors.js';
import { runHost } from '../host/run-host.js';
import { PipelineComponent } from '../pipeline/pipeline-component.js';
import { Exec } from '../rules/exec.js';
import { QueueRulesComponent } from '../rules/queue-rules-component.js';
import { doneLine, headerLine, hopLine } from '../trace/trace-format.js';
import type { DoneRecord, HopRecord, TraceRecord } from '../trace/trace-records.js';
import { TRACE_DEFAULTS, TRACE_PROBES_PER_SECOND, TRACE_SAMPLE_LARGE } from '../trace/trace-settings.js';
import { TraceStage } from '../trace/trace-stage.js';
import { argLast, failAsUsage } from './arg-values.js';
import { checkTraceArgs, DEFAULT_WAIT_S, traceExitStatus, type RawTraceArgs } from './trace-args.js';
import { defineOptions, givenOptions } from './command-options.js';
import { packageVersion } from './version.js';

/** Trace's queue when none is given: next to snoop's 16. */
export const TRACE_QUEUE = 17;

const OPTIONS = [
  ...withDefaults(QUEUE_OPTIONS, { queue: String(TRACE_QUEUE) }),
  ...CONTROL_CLIENT_OPTIONS,
  ...standaloneHostOptions({ metrics: 'off', 'log-level': 'warn', 'drain-timeout': '2' }),
];

function parse(argv: string[]) {
  return defineOptions(yargs(argv).version(false), OPTIONS)
    .option('port', { alias: 'p', type: 'string', requiresArg: true, describe: "the flow's TCP port at DEST (default: any)" })
    .option('max-ttl', { alias: 'm', type: 'string', requiresArg: true, describe: 'highest TTL (hop limit) to probe', defaultDescription: String(TRACE_DEFAULTS.maxTtl) })
    .option('probes', { alias: 'q', type: 'string', requiresArg: true, describe: 'probes per TTL; the share unanswered is the loss shown per hop', defaultDescription: String(TRACE_DEFAULTS.probesPerTtl) })
    .option('wait', { alias: 'w', type: 'string', requiresArg: true, describe: 'seconds to wait for a live flow to DEST', defaultDescription: String(DEFAULT_WAIT_S) })
    .option('probe-timeout', { type: 'string', requiresArg: true, describe: 'milliseconds a probe waits for its answer', defaultDescription: String(TRACE_DEFAULTS.probeTimeoutMs) })
    .option('json', { type: 'boolean', describe: 'JSON lines: one {"type":"hop"} per TTL, then {"type":"done"}' })
    .option('config', { type: 'string', describe: 'configuration file to read options from', requiresArg: true })
    .scriptName('tcp-intercept trace')
    .usage('tcp-intercept trace DEST [--port P] [--max-ttl N] [--probes N] [--wait S] [--json]\n\n' +
      'Traces the path to DEST along a live TCP flow that this box carries, without opening a connection: copies of the ' +
      "flow's headers go out with low TTLs and the routers' ICMP time-exceeded answers are read (and kept from the client); " +
      'the flow itself loses nothing. When the service runs a packet pipeline (snoop or --trace), the service does the trace on its ' +
      `queue (asked over --control-socket); otherwise this command binds its own queue (default ${TRACE_QUEUE}) and rules for DEST. ` +
      'Exit status: 0 reached, 1 not reached, 75 no live flow within --wait, 64 usage, 69 queue busy, 77 no permission.')
    .help('help')
    .alias('help', 'h')
    .strictOptions()
    .fail((message, err) => failAsUsage(message, err))
    .parseSync();
}

function rawArgs(args: ReturnType<typeof parse>): RawTraceArgs {
  if (args._.length !== 1) throw new UsageError(args._.length ? `trace: one destination, not '${args._.join(' ')}'` : 'trace: say which destination, a numeric IPv4 or IPv6 address');
  return {
    destination: String(args._[0]), port: argLast(args.port), maxTtl: argLast(args.maxTtl), probes: argLast(args.probes),
    probeTimeout: argLast(args.probeTimeout), wait: argLast(args.wait),
  };
}

/** Prints records: JSON lines as they come, or the table once the trace is done. */
function printer(json: boolean, probes: number): (r: TraceRecord) => void {
  const hops: HopRecord[] = [];
  return (r) => {
    if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else if (r.type === 'hop') hops.push(r);
    else if (r.reason === 'no-flow') process.stderr.write(`${doneLine(r)}\n`);
    else process.stdout.write([headerLine(r, probes), ...hops.map(hopLine), doneLine(r)].join('\n') + '\n');
  };
}

/** The running service's answer, or null when none runs a pipeline that could trace. */
async function askRunningService(path: string | null, raw: RawTraceArgs, print: (r: TraceRecord) => void): Promise<number | null> {
  if (path === null) return null;
  try {
    return await askService(path, 'trace', raw, (r) => print(r as unknown as TraceRecord));
  } catch (err) {
    if (err instanceof TiError && err.code === 'TI_ERR_CONTROL_REQUEST' && /unknown command 'trace'/.test(err.message)) return null;
    throw err;
  }
}

export async function runTraceCommand(argv: string[]): Promise<number> {
  const args = parse(argv);
  const raw = rawArgs(args);
  const t = checkTraceArgs(raw);
  const given = givenOptions(args as Record<string, unknown>, OPTIONS);
  const { values } = loadValues(OPTIONS, given, argLast(args.config) ?? null, process.env, false);
  const print = printer(args.json === true, t.settings.probesPerTtl);
  const answered = await askRunningService(clientControlSocket(values), raw, print);
  if (answered !== null) return answered;

  const host = buildHostOptions(values);
  const { queue, maxLen } = buildQueueOptions(values);
  const stage = new TraceStage({ probesPerSecond: TRACE_PROBES_PER_SECOND });
  const pipeline = new PipelineComponent({ queue, maxLen, injectionMark: INJECTION_MARK }, [stage]);
  const rules = new QueueRulesComponent(new Exec(false), {
    set: 'trace', queue, forwardInterfaces: [], addresses: [t.destination.text], sampleLarge: TRACE_SAMPLE_LARGE, local: true, icmpRelated: true, injectionMark: INJECTION_MARK,
  });
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
  // Once installed, the rules go on every path; a failure to start is the error to report.
  await run.catch(async (err: unknown) => {
    await rules.remove().catch(() => undefined);
    throw err;
  });
  await rules.remove();
  const result = done as DoneRecord | null;
  return result === null ? 1 : traceExitStatus(result.reached, result.reason === 'no-flow');
}
