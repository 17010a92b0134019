// The emulator's settings from merged option values (`tcp-intercept emulate`).
import { decimal, wholeNumber } from '../config/numbers.js';
import { buildQueueOptions, type QueueOptions } from '../config/queue-options.js';
import type { Values } from '../config/values.js';
import { UsageError } from '../errors.js';
import { parseBurst, validateLinkSettings, type LinkSettings } from './link-model.js';

const DAY_MS = 86_400_000;

export interface EmulateOptions extends QueueOptions {
  link: LinkSettings;
  /** null: Math.random */
  seed: number | null;
}

function burst(v: Values): LinkSettings['burst'] {
  const text = v.str('burst');
  if (text === undefined) return null;
  try {
    return parseBurst(text);
  } catch (err) {
    throw new UsageError((err as Error).message);   // it names the flag
  }
}

export function buildEmulateOptions(v: Values): EmulateOptions {
  if (!v.has('queue')) throw new UsageError('emulate: --queue N is required');
  const rate = v.str('rate');
  const link: LinkSettings = {
    delayMs: decimal(v.str('delay'), v.what('delay'), 0, DAY_MS),
    jitterMs: decimal(v.str('jitter'), v.what('jitter'), 0, DAY_MS),
    lossPercent: decimal(v.str('loss'), v.what('loss'), 0, 100),
    burst: burst(v),
    rateMbit: rate === undefined ? null : decimal(rate, v.what('rate'), 0.001, 1e6),
    limit: v.whole('limit', 1, 1 << 24),
  };
  const problem = validateLinkSettings(link);
  if (problem) throw new UsageError(problem);
  const seed = v.str('seed');
  return {
    ...buildQueueOptions(v),
    link,
    seed: seed === undefined ? null : wholeNumber(seed, v.what('seed'), 0, 0xffffffff),
  };
}
