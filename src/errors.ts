// Errors the control plane reports to users, each with a stable code and a process exit status
// (sysexits.h values, as the original tcp-intercept used).

export const EX_USAGE = 64;
export const EX_UNAVAILABLE = 69;
export const EX_OSERR = 71;
export const EX_NOPERM = 77;
export const EX_CONFIG = 78;

export class TiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad command line or option value: exit 64 with a one-line reason. */
export class UsageError extends TiError {
  constructor(message: string) {
    super(message, 'TI_ERR_USAGE', EX_USAGE);
  }
}

/** The system cannot do what was asked (no permission, no MPTCP, address in use). */
export class StartupError extends TiError {
  constructor(message: string, code: string, exitCode = EX_OSERR) {
    super(message, code, exitCode);
  }
}

/** A bad configuration file entry or TCP_INTERCEPT_* variable: names the key and where it came from. */
export class ConfigError extends TiError {
  constructor(message: string) {
    super(message, 'TI_ERR_CONFIG', EX_CONFIG);
  }
}

/**
 * A bad option value, named by where it came from: a command-line flag ("--buffer-size") makes
 * a usage error (64); a file line or TCP_INTERCEPT_* variable makes a configuration error (78).
 */
export function optionError(what: string, message: string): TiError {
  return what.startsWith('-') ? new UsageError(`${what}: ${message}`) : new ConfigError(`${what}: ${message}`);
}
