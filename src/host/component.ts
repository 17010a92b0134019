// The contract every long-running part (proxy, packet pipeline) keeps with the host that runs it.
// The host owns options loading, logs, the one metrics registry, sd_notify, signals, reload, the
// drain and the pid file; a component owns only what it does.
import type { Registry } from 'prom-client';
import type { Logger } from '../log/logger.js';

export interface HostContext {
  logger: Logger;
  /** the process's one registry, served on the one --metrics endpoint */
  registry: Registry;
}

/** What a reload changed: option names applied live, and those that need a restart. */
export interface ReloadOutcome {
  applied: string[];
  needRestart: string[];
}

export interface Component<O = unknown> {
  /** 'proxy', 'pipeline': for logs and errors */
  readonly name: string;
  /** Binds what it needs (listeners, queues); a failure throws a TiError and the host closes the
   *  components started before it. */
  start(ctx: HostContext): void | Promise<void>;
  /** For the ready line of the log: what it serves, with its main settings. */
  describe(): string;
  /** One line for systemd's STATUS=. */
  status(): string;
  /** New options (SIGHUP); null when the new configuration no longer has this component. */
  reload(next: O | null): ReloadOutcome;
  /** Stops taking new work and lets what is in flight finish, for at most <ms>. */
  drain(ms: number): Promise<void>;
  /** Ends everything now; safe to call more than once and during a drain. */
  close(): void;
  /** What a standalone subcommand prints when it stops (the emulator's figures). */
  report?(): string;
}

/** Values compared as a reload compares them (plain data: options, endpoints). */
export const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The names of the [name, running, wanted] triples whose values differ. */
export function changedOptions(pairs: ReadonlyArray<readonly [string, unknown, unknown]>): string[] {
  return pairs.filter(([, a, b]) => !sameValue(a, b)).map(([name]) => name);
}
