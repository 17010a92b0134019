// winston, writing text or JSON lines to stdout or to a file that SIGHUP reopens (logrotate).
import { closeSync, createWriteStream, openSync } from 'node:fs';
import winston from 'winston';
import type { LogOptions } from '../config/host-options.js';
import { StartupError } from '../errors.js';

export type Logger = winston.Logger;

// sd-daemon(3) priorities, so that journalctl -p works on what journald captures from stdout.
const PRIORITY: Record<string, number> = { error: 3, warn: 4, info: 6, debug: 7 };
const MESSAGE = Symbol.for('message');   // where winston keeps the formatted line
const journalPrefix = winston.format((info) => {
  const line = (info as unknown as Record<symbol, string>)[MESSAGE];
  (info as unknown as Record<symbol, string>)[MESSAGE] = `<${PRIORITY[info.level] ?? 6}>${line}`;
  return info;
});

const plain = (v: unknown): string => (typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v));

const textFormat = winston.format.printf((info) => {
  const { level, message, timestamp, ...meta } = info;
  const fields = Object.entries(meta)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${plain(v)}`)
    .join(' ');
  return `${String(timestamp)} ${level} ${String(message)}${fields ? ' ' + fields : ''}`;
});

function openFile(path: string): winston.transport {
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o640);
  } catch (err) {
    throw new StartupError(`-l/--log: cannot open '${path}': ${(err as Error).message}`, 'TI_ERR_LOG_FILE');
  }
  try {
    return new winston.transports.Stream({ stream: createWriteStream('', { fd, flags: 'a' }) });
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

export interface LogSink {
  logger: Logger;
  /** Reopens the log file (after logrotate moved it); a no-op when logging to stdout. */
  reopen(): void;
}

export function createLogger(opts: LogOptions): LogSink {
  const format = winston.format.combine(
    winston.format.timestamp(),
    opts.format === 'json' ? winston.format.json() : textFormat,
    ...(opts.journal ? [journalPrefix()] : []),
  );
  let transport: winston.transport = opts.file ? openFile(opts.file) : new winston.transports.Console();
  const defaultMeta = opts.worker === null ? undefined : { worker: opts.worker };
  const logger = winston.createLogger({ level: opts.level, format, defaultMeta, transports: [transport] });
  return {
    logger,
    reopen() {
      if (!opts.file) return;
      let fresh: winston.transport;
      try {
        fresh = openFile(opts.file);
      } catch (err) {
        logger.error(`log reopen failed, keeping the old file: ${(err as Error).message}`);
        return;
      }
      logger.add(fresh);
      logger.remove(transport);
      transport.close?.();
      transport = fresh;
      logger.info(`log file reopened: ${opts.file}`);
    },
  };
}
