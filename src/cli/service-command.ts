// `tcp-intercept [options]`: the service, as the .deb runs it. Its components (the proxy, and the
// packet pipeline when snoop or --trace is configured: snoop's stage, then trace's) run on one host
// in one process, or under a --workers supervisor: the proxy in every worker, the pipeline and the
// control socket in the first only (one queue, one binder; the commands asked over the socket,
// such as trace, reach that queue).
import { loadServiceOptions, type ServiceOptions } from '../config/load-options.js';
import { INJECTION_MARK } from '../config/marks.js';
import { ControlComponent } from '../control/control-component.js';
import { UsageError } from '../errors.js';
import type { Component } from '../host/component.js';
import { runHost } from '../host/run-host.js';
import { runSupervisor, WORKER_ENV } from '../host/supervisor.js';
import { addon } from '../native/addon.js';
import { PipelineComponent, type PipelineOptions } from '../pipeline/pipeline-component.js';
import { ProxyComponent } from '../proxy/proxy-component.js';
import type { QueueRange } from '../nfq/queue.js';
import { Exec } from '../rules/exec.js';
import { installPacketRules, removePacketRules } from '../rules/packet-rules.js';
import { SnoopStage } from '../snoop/snoop-stage.js';
import { TraceComponent } from '../trace/trace-component.js';
import { TRACE_SAMPLE_LARGE } from '../trace/trace-settings.js';
import { TraceStage } from '../trace/trace-stage.js';
import { argLast } from './arg-values.js';
import { traceHandler } from './trace-handler.js';
import { parseServiceArgs, serviceGiven } from './service-args.js';
import { packageVersion, versionText } from './version.js';

/** In a --workers worker: no pid file, and every log line says which worker. */
function asWorker(o: ServiceOptions, worker: string | undefined): ServiceOptions {
  if (worker === undefined) return o;
  return { ...o, host: { ...o.host, workers: 1, pidFile: null, log: { ...o.host.log, worker: Number(worker) } } };
}

function pipelineOptions(o: ServiceOptions): PipelineOptions | null {
  if (o.queue === null) return null;
  return { queue: o.queue.queue, maxLen: o.queue.maxLen, injectionMark: INJECTION_MARK, stages: o.snoop ? { snoop: o.snoop.settings } : {} };
}

/** Trace's own queue rules, for exactly the destinations it traces now. */
function traceRules(queue: QueueRange): (addresses: string[]) => Promise<void> {
  const exec = new Exec(false);
  return async (addresses) => {
    if (addresses.length === 0) await removePacketRules(exec, ['trace']);
    else await installPacketRules(exec, { set: 'trace', queue, forwardInterfaces: [], addresses, sampleLarge: TRACE_SAMPLE_LARGE, local: true, icmpRelated: true, injectionMark: INJECTION_MARK });
  };
}

/** Packet components run in one process: the first worker, or the only one. */
const runsPackets = (o: ServiceOptions): boolean => (o.host.log.worker ?? 0) === 0;

/** The control socket, last: it reports on the others, and answers once they serve. */
function components(o: ServiceOptions): Component[] {
  const proxy = o.proxy ? new ProxyComponent(o.proxy, addon()) : null;
  const list: Component[] = proxy ? [proxy] : [];
  const pipeline = pipelineOptions(o);
  let trace: TraceComponent | null = null;
  if (pipeline && runsPackets(o)) {
    const stage = new TraceStage({ probesPerSecond: o.trace.probesPerSecond });
    list.push(new PipelineComponent(pipeline, [...(o.snoop ? [new SnoopStage(o.snoop.settings)] : []), stage]));
    trace = new TraceComponent(o.trace, {
      stage, queueAddresses: traceRules(pipeline.queue), watchTargets: proxy ? (watch) => proxy.watchTargets(watch) : undefined,
    });
    list.push(trace);
  }
  if (o.host.control && runsPackets(o)) {
    const control = new ControlComponent(o.host.control, packageVersion(), list);
    if (trace) control.handlers.set('trace', traceHandler(trace));
    list.push(control);
  }
  return list;
}

export async function runServiceCommand(argv: string[]): Promise<number> {
  const args = parseServiceArgs(argv);
  if (args.version) {
    process.stdout.write(versionText() + '\n');
    return 0;
  }
  if (args._.length > 0) throw new UsageError(`unexpected argument '${String(args._[0])}'`);
  const given = serviceGiven(args);
  const configFile = argLast(args.config) ?? null;
  const load = () => loadServiceOptions(given, configFile, process.env, addon());
  const worker = process.env[WORKER_ENV];
  const options = asWorker(load().options, worker);
  // Workers share the proxy's listeners; without a proxy there is nothing to share.
  if (worker === undefined && options.host.workers > 1 && options.proxy) {
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
      return { host: next.host, parts: { proxy: next.proxy, pipeline: pipelineOptions(next), trace: next.queue ? next.trace : null }, file };
    },
  });
  return 0;
}
