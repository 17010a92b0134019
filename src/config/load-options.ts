// A command's whole configuration, from its four sources. Called at startup and on SIGHUP.
import { CONFIG_VAR, mergeSources, readConfigFile, type OptionValue } from './sources.js';
import { ALL_OPTIONS, DEFAULT_CONFIG_FILE, SERVICE_OPTIONS, type OptionDef } from './option-table.js';
import { buildHostOptions, type HostOptions } from './host-options.js';
import { buildProxyOptions, type ProxyOptions, type SystemProbes } from './proxy-options.js';
import { buildQueueOptions, type QueueOptions } from './queue-options.js';
import { buildSnoopSettings } from './snoop-options.js';
import { buildTraceService, type TraceService } from './trace-options.js';
import type { SnoopSettings } from '../snoop/snoop-settings.js';
import { readSystemLimits, type SystemLimits } from './system-limits.js';
import { Values } from './values.js';
import { optionError } from '../errors.js';

export interface LoadedValues {
  values: Values;
  /** the file actually read, for the log */
  file: string | null;
}

/**
 * <cli>: the options given on the command line, by long name; <configFile>: --config, if given.
 * The service reads the default file when it exists and knows only its own keys; a subcommand
 * reads a file only when named and passes over keys that belong to other commands.
 */
export function loadValues(
  specs: readonly OptionDef[],
  cli: Readonly<Record<string, OptionValue>>,
  configFile: string | null,
  env: NodeJS.ProcessEnv,
  service: boolean,
): LoadedValues {
  const explicit = configFile ?? env[CONFIG_VAR] ?? null;
  const file = explicit === null && !service ? null : readConfigFile(explicit, DEFAULT_CONFIG_FILE);
  const merged = mergeSources(specs, cli, env, file, service ? specs : ALL_OPTIONS);
  return { values: new Values(merged), file: file?.path ?? null };
}

export interface ServiceOptions {
  host: HostOptions;
  /** null: no listen address, no proxy */
  proxy: ProxyOptions | null;
  /** null: no --snoop-interface */
  snoop: SnoopService | null;
  trace: TraceService;
  /** the packet pipeline's queue: null when neither snoop nor --trace runs (no pipeline) */
  queue: QueueOptions | null;
}

/** Snoop as the service runs it: a pipeline of one stage on its own queue. */
export interface SnoopService extends QueueOptions {
  settings: SnoopSettings;
}

function snoopService(values: Values): SnoopService | null {
  const settings = buildSnoopSettings(values);
  return settings ? { settings, ...buildQueueOptions(values) } : null;
}

function pipelineQueue(values: Values, snoop: SnoopService | null, trace: TraceService): QueueOptions | null {
  if (snoop) return { queue: snoop.queue, maxLen: snoop.maxLen };
  if (trace.continuous) return buildQueueOptions(values);
  const stray = ['queue', 'queue-maxlen'].find((k) => values.given(k));
  if (stray) throw optionError(values.what(stray), 'needs --snoop-interface or --trace (no packet component runs without them)');
  return null;
}

export function loadServiceOptions(
  cli: Readonly<Record<string, OptionValue>>,
  configFile: string | null,
  env: NodeJS.ProcessEnv,
  probes: SystemProbes,
  limits: SystemLimits = readSystemLimits(),
): { options: ServiceOptions; file: string | null } {
  const { values, file } = loadValues(SERVICE_OPTIONS, cli, configFile, env, true);
  const host = buildHostOptions(values);
  const proxy = buildProxyOptions(values, host.log.level, probes, { workers: host.workers, limits });
  const snoop = snoopService(values);
  const trace = buildTraceService(values);
  const queue = pipelineQueue(values, snoop, trace);
  if (proxy === null && queue === null) throw optionError(values.what('bind-listen'), 'no listen address, no --snoop-interface and no --trace: nothing to run');
  return { options: { host, proxy, snoop, trace, queue }, file };
}
