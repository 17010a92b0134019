// The whole configuration, from its four sources, validated. Called at startup and on SIGHUP.
import { CONFIG_VAR, mergeSources, readConfigFile, type OptionValue } from './sources.js';
import { DEFAULT_CONFIG_FILE, OPTIONS } from './option-table.js';
import { buildProxyOptions, type ProxyOptions, type SystemProbes } from './proxy-options.js';

/**
 * <cli>: the options given on the command line, by long name; <configFile>: --config, if given.
 * Also returns the file actually read, for the log.
 */
export function loadProxyOptions(
  cli: Readonly<Record<string, OptionValue>>,
  configFile: string | null,
  env: NodeJS.ProcessEnv,
  probes: SystemProbes,
): { options: ProxyOptions; file: string | null } {
  const file = readConfigFile(configFile ?? env[CONFIG_VAR] ?? null, DEFAULT_CONFIG_FILE);
  return { options: buildProxyOptions(mergeSources(OPTIONS, cli, env, file), probes), file: file?.path ?? null };
}
