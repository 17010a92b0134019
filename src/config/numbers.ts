// Numeric option values: whole numbers and ranges of them, decimals, sizes with binary suffixes.
import { optionError } from '../errors.js';

export function wholeNumber(value: unknown, what: string, min: number, max: number): number {
  const text = String(value).trim();
  const n = /^(0x[0-9a-f]+|\d+)$/i.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw optionError(what, `'${text}' is not a whole number from ${min} to ${max}`);
  }
  return n;
}

/** "N" or "FIRST:LAST" (as iptables writes ranges) -> whole numbers from min to max, first <= last. */
export function wholeRange(value: unknown, what: string, min: number, max: number): { first: number; last: number } {
  const text = String(value).trim();
  const [a, b, ...rest] = text.split(':');
  if (rest.length > 0) throw optionError(what, `'${text}' is not a number or a range FIRST:LAST`);
  const first = wholeNumber(a, what, min, max);
  const last = b === undefined ? first : wholeNumber(b, what, min, max);
  if (last < first) throw optionError(what, `'${text}' is a range whose end comes before its start`);
  return { first, last };
}

/** Plain decimal text: "12", "0.5", ".25" (no sign, no exponent). */
export const DECIMAL = /^(?:\d+\.?\d*|\.\d+)$/;

/** "12", "0.5", ".25" -> a number from min to max. */
export function decimal(value: unknown, what: string, min: number, max: number): number {
  const text = String(value).trim();
  const n = DECIMAL.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw optionError(what, `'${text}' is not a number from ${min} to ${max}`);
  return n;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, kib: 1024, m: 1 << 20, mib: 1 << 20, g: 1 << 30, gib: 1 << 30 };

/** "65536", "64k", "1M", "1MiB" -> bytes. */
export function byteSize(value: unknown, what: string, min: number, max: number): number {
  const text = String(value).trim();
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text);
  const unit = m ? UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  const n = m && unit ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw optionError(what, `'${text}' is not a size from ${min} to ${max} bytes (suffixes k, M, G)`);
  }
  return n;
}
