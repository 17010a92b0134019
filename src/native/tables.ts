// Checks the tables the addon exports (addon/tables.cc) against what a reader assumes, once at
// load: a layout or code changed on one side fails at load with the field's name, never as
// wrong numbers later.
import type { Layout } from './addon.js';

/** Byte offsets in <layout> of the fields a reader reads, given with the width it reads each at. */
export function fieldOffsets<K extends string>(layout: Layout, what: string, widths: Readonly<Record<K, number>>): Record<K, number> {
  const offsets = {} as Record<K, number>;
  for (const name of Object.keys(widths) as K[]) {
    const size = layout.sizes[name];
    if (size === undefined) throw new Error(`${what}: the addon has no field '${name}'`);
    if (size !== widths[name]) throw new Error(`${what}: field '${name}' is ${size} bytes in the addon, read as ${widths[name]}`);
    offsets[name] = layout.fields[name];
  }
  return offsets;
}

/** The values of <names> in an exported table of codes or flags. */
export function namedValues<K extends string>(table: Readonly<Record<string, number>>, what: string, names: readonly K[]): Record<K, number> {
  const values = {} as Record<K, number>;
  for (const name of names) {
    const value = table[name];
    if (typeof value !== 'number') throw new Error(`${what}: the addon has no '${name}'`);
    values[name] = value;
  }
  return values;
}
