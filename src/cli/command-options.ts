// A command line from option-table groups. yargs applies no defaults (the config loader does,
// below the file and the environment), so what it returns is exactly what was typed; the help
// still shows each default.
import type { Argv } from 'yargs';
import type { OptionDef } from '../config/option-table.js';
import type { OptionValue } from '../config/sources.js';

export function defineOptions<T>(y: Argv<T>, defs: readonly OptionDef[]): Argv<T> {
  for (const o of defs) {
    y = y.option(o.key, {
      alias: o.alias,
      type: o.kind === 'boolean' ? 'boolean' : 'string',
      describe: o.describe,
      requiresArg: o.kind !== 'boolean',
      defaultDescription: o.default === undefined ? undefined : JSON.stringify(o.default),
    });
  }
  return y;
}

/**
 * The typed options by long name. yargs turns a repeated option into an array: a list option
 * keeps them all, any other keeps its last value, as in most tools.
 */
export function givenOptions(args: Record<string, unknown>, defs: readonly OptionDef[]): Record<string, OptionValue> {
  const given: Record<string, OptionValue> = {};
  for (const o of defs) {
    const v = args[o.key];
    if (v === undefined) continue;
    if (o.kind === 'list') given[o.key] = ([] as string[]).concat(v as string | string[]).map(String);
    else given[o.key] = (Array.isArray(v) ? v[v.length - 1] : v) as OptionValue;
  }
  return given;
}
