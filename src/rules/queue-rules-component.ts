// A packet component's queue rules as a component of the host, for a standalone subcommand that
// owns its rules (`tcp-intercept snoop`): installed at start, removed at the drain or close. Put it
// after the pipeline: a queue another program holds then stops the start before any rule changes
// (the rules it would replace could be that program's).
import { StartupError } from '../errors.js';
import type { Component, ReloadOutcome } from '../host/component.js';
import type { Exec } from './exec.js';
import { describeQueued, type PacketRuleOptions } from './packet-rule-options.js';
import { installPacketRules, removePacketRules } from './packet-rules.js';

export class QueueRulesComponent implements Component<PacketRuleOptions> {
  readonly name = 'queue-rules';
  readonly #exec: Exec;
  readonly #options: PacketRuleOptions;
  #touched = false;
  #backend = '';
  #removal: Promise<void> | null = null;

  constructor(exec: Exec, options: PacketRuleOptions) {
    this.#exec = exec;
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#touched = true;
    try {
      this.#backend = await installPacketRules(this.#exec, this.#options);
    } catch (err) {
      await this.remove().catch(() => undefined);   // the install's error is the one to report
      throw new StartupError(`queue rules: ${(err as Error).message}`, 'TI_ERR_RULES');
    }
  }

  describe(): string {
    return `queue rules (${this.#backend}): ${describeQueued(this.#options)}`;
  }

  status(): string {
    return `queue rules ${this.#removal ? 'removed' : 'installed'}`;
  }

  /** The rules follow the queue and the interfaces, which need a restart (the pipeline and its stage say so). */
  reload(): ReloadOutcome {
    return { applied: [], needRestart: [] };
  }

  drain(): Promise<void> {
    return this.remove();
  }

  close(): void {
    this.remove().catch(() => undefined);   // whoever awaits remove() hears of a failure
  }

  /** Removes what start installed (or began to), once; nothing when start never ran. */
  remove(): Promise<void> {
    this.#removal ??= this.#touched
      ? removePacketRules(this.#exec, [this.#options.set ?? 'queue']).catch((err: unknown) => {
        throw new StartupError(`queue rules: cannot remove them: ${(err as Error).message}`, 'TI_ERR_RULES');
      })
      : Promise.resolve();
    return this.#removal;
  }
}
