// The control socket as a component of the host: other parts register their commands in
// <handlers> before the host starts it; it answers 'status' itself. It starts after the
// components it reports on, so a service that answers is a service that serves.
import type { Component, HostContext, ReloadOutcome } from '../host/component.js';
import type { ControlHandler } from './control-server.js';
import { ControlServer } from './control-server.js';
import { statusHandler } from './status-handler.js';

export class ControlComponent implements Component {
  readonly name = 'control';
  /** command name -> handler; fill before start */
  readonly handlers = new Map<string, ControlHandler>();
  #server: ControlServer | null = null;

  constructor(
    readonly path: string,
    version: string,
    components: readonly Component[],
  ) {
    this.handlers.set('status', statusHandler(version, components));
  }

  async start(ctx: HostContext): Promise<void> {
    const server = new ControlServer(this.path, this.handlers, ctx.logger);
    await server.listen();
    this.#server = server;
  }

  describe(): string {
    return `control socket ${this.path}`;
  }

  status(): string {
    const n = this.#server?.clients ?? 0;
    return `${n} ${n === 1 ? 'client' : 'clients'} on ${this.path}`;
  }

  /** Its path is a host option (--control-socket), which the host's reload reports. */
  reload(): ReloadOutcome {
    return { applied: [], needRestart: [] };
  }

  async drain(ms: number): Promise<void> {
    this.#server?.stop();
    await this.#server?.idle(ms);
  }

  close(): void {
    this.#server?.close();
  }
}
