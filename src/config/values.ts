// Typed reads of merged option values, each naming the flag, variable or file line it came from.
import { optionError } from '../errors.js';
import { wholeNumber } from './numbers.js';
import type { SourcedOptions } from './sources.js';

export class Values {
  constructor(private readonly opts: SourcedOptions) {}

  what(key: string): string {
    const source = this.opts.get(key)?.source ?? 'default';
    return source === 'default' ? `--${key} (default)` : source;
  }

  has(key: string): boolean {
    return this.opts.has(key);
  }

  /** Set by the user (command line, environment or file), not by its default. */
  given(key: string): boolean {
    return (this.opts.get(key)?.source ?? 'default') !== 'default';
  }

  str(key: string): string | undefined {
    const v = this.opts.get(key)?.value;
    return v === undefined ? undefined : String(v);
  }

  bool(key: string): boolean {
    return this.opts.get(key)?.value === true;
  }

  /** A list option's items; empty strings (`-b ''`) stand for none. */
  list(key: string): string[] {
    const v = this.opts.get(key)?.value;
    return v === undefined ? [] : ([] as string[]).concat(v as string | string[]).filter((item) => item !== '');
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const value = this.str(key) ?? '';
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw optionError(this.what(key), `'${value}' is not one of ${allowed.join(', ')}`);
  }

  whole(key: string, min: number, max: number): number {
    return wholeNumber(this.str(key), this.what(key), min, max);
  }

  /** A whole number that may be absent (0 then). */
  optionalWhole(key: string, min: number, max: number): number {
    return this.has(key) ? this.whole(key, min, max) : 0;
  }
}
