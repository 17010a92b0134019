// The command line of the proxy, from the option table. yargs applies no defaults (the
// config loader does, below the file and the environment), so what it returns is exactly
// what was typed; the help still shows each default.
import type { Argv } from 'yargs';
import { DEFAULT_CONFIG_FILE, OPTIONS } from '../config/option-table.js';
import type { OptionValue } from '../config/sources.js';

export function defineRunOptions<T>(y: Argv<T>): Argv<T> {
  for (const o of OPTIONS) {
    y = y.option(o.key, {
      alias: o.alias,
      type: o.kind === 'boolean' ? 'boolean' : 'string',
      describe: o.describe,
      requiresArg: o.kind !== 'boolean',
      defaultDescription: o.default === undefined ? undefined : JSON.stringify(o.default),
    });
  }
  return y
    .option('config', { type: 'string', describe: `configuration file (default ${DEFAULT_CONFIG_FILE} when present)`, requiresArg: true })
    .option('version', { alias: 'V', type: 'boolean', describe: 'print the version and exit' });
}

/**
 * The typed options by long name. yargs turns a repeated option into an array: a list option
 * keeps them all, any other keeps its last value, as in most tools.
 */
export function givenOptions(args: Record<string, unknown>): Record<string, OptionValue> {
  const given: Record<string, OptionValue> = {};
  for (const o of OPTIONS) {
    const v = args[o.key];
    if (v === undefined) continue;
    if (o.kind === 'list') given[o.key] = ([] as string[]).concat(v as string | string[]).map(String);
    else given[o.key] = (Array.isArray(v) ? v[v.length - 1] : v) as OptionValue;
  }
  return given;
}
