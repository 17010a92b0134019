// What the subcommands share about yargs results: a repeated option keeps its last value, and
// yargs' own complaints become usage errors (exit 64, one line).
import { TiError, UsageError } from '../errors.js';

/** Every value an option was given, as strings (none: empty). */
export const argList = (v: unknown): string[] => (v === undefined ? [] : ([] as unknown[]).concat(v).map(String));

/** The last value an option was given, or undefined. */
export const argLast = (v: unknown): string | undefined => argList(v).pop();

/** For yargs' fail(): our own errors pass through; yargs' messages become one-line usage errors. */
export function failAsUsage(message: string | undefined, err: Error | undefined, tidy: (m: string) => string = (m) => m): never {
  if (err instanceof TiError) throw err;
  throw new UsageError(tidy((message ?? err?.message ?? 'bad arguments').replace(/\s*\n\s*/g, '; ')));
}
