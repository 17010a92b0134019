// Errors the control plane reports to users: each has a stable code from one table, with the
// process exit status it gives (sysexits.h values, as the original tcp-intercept used).
// docs/errors.md lists every code; a test keeps the two in step.

export const EX_USAGE = 64;
export const EX_UNAVAILABLE = 69;
export const EX_OSERR = 71;
export const EX_NOPERM = 77;
export const EX_CONFIG = 78;

/** Every code, with its exit status. */
export const ERROR_CODES = {
  TI_ERR_USAGE: EX_USAGE,
  TI_ERR_CONFIG: EX_CONFIG,
  TI_ERR_LISTEN: EX_OSERR,
  TI_ERR_LISTEN_PERMISSION: EX_NOPERM,
  TI_ERR_METRICS_LISTEN: EX_OSERR,
  TI_ERR_LOG_FILE: EX_OSERR,
  TI_ERR_PID_FILE: EX_OSERR,
  TI_ERR_QUEUE_BIND: EX_OSERR,
  TI_ERR_QUEUE_BUSY: EX_UNAVAILABLE,
  TI_ERR_QUEUE_PERMISSION: EX_NOPERM,
  TI_ERR_RULES: EX_OSERR,
  TI_ERR_INJECT: EX_OSERR,
  TI_ERR_INJECT_PERMISSION: EX_NOPERM,
  TI_ERR_CONTROL_SOCKET: EX_OSERR,
  TI_ERR_CONTROL_IN_USE: EX_UNAVAILABLE,
  TI_ERR_CONTROL_PERMISSION: EX_NOPERM,
  TI_ERR_CONTROL_REQUEST: EX_USAGE,
  TI_ERR_CONTROL_BUSY: EX_UNAVAILABLE,
  TI_ERR_CONTROL_NO_ANSWER: EX_UNAVAILABLE,
  TI_ERR_CONTROL_FAILED: EX_OSERR,
  /** the exit status is the failed worker's own */
  TI_ERR_WORKER_START: EX_OSERR,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class TiError extends Error {
  readonly exitCode: number;

  constructor(
    message: string,
    readonly code: ErrorCode,
    exitCode: number = ERROR_CODES[code],
  ) {
    // One line, whatever a quoted value held (a variable's value may contain newlines).
    super(message.replace(/\r?\n|\r/g, '\\n'));
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A bad command line or option value: exit 64 with a one-line reason. */
export class UsageError extends TiError {
  constructor(message: string) {
    super(message, 'TI_ERR_USAGE');
  }
}

/** The system cannot do what was asked (no permission, queue busy, address in use). */
export class StartupError extends TiError {}

/** A bad configuration file entry or TCP_INTERCEPT_* variable: names the key and where it came from. */
export class ConfigError extends TiError {
  constructor(message: string) {
    super(message, 'TI_ERR_CONFIG');
  }
}

/**
 * A bad option value, named by where it came from: a command-line flag ("--buffer-size") makes
 * a usage error (64); a file line or TCP_INTERCEPT_* variable makes a configuration error (78).
 */
export function optionError(what: string, message: string): TiError {
  return what.startsWith('-') ? new UsageError(`${what}: ${message}`) : new ConfigError(`${what}: ${message}`);
}
