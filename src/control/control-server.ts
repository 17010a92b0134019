// The service's end of the control socket: one request line per connection, dispatched to the
// handler registered for its command, whose records stream back until its final line. Every
// mistake a client makes is an error line to that client; nothing a client sends stops the service.
import { createServer, type Server, type Socket } from 'node:net';
import { TiError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { listenControlSocket } from './control-listen.js';
import {
  endRecord,
  errorRecord,
  formatRecord,
  LineSplitter,
  MAX_CLIENTS,
  MAX_REQUEST_BYTES,
  MAX_UNREAD_BYTES,
  parseRequest,
  REQUEST_TIMEOUT_MS,
  type ControlRecord,
} from './control-protocol.js';

/**
 * A command the service answers: <write> sends one record line (ignored once the client is gone);
 * <signal> aborts when the client disconnects or the service stops. It resolves with the status
 * of the final line; a throw becomes the error line (a TiError keeps its code).
 */
export type ControlHandler = (args: unknown, write: (record: ControlRecord) => void, signal: AbortSignal) => Promise<number>;

export class ControlServer {
  readonly #server: Server;
  /** each open connection, with what tells it the service is stopping */
  readonly #connections = new Map<Socket, () => void>();
  #stopping = false;

  constructor(
    readonly path: string,
    private readonly handlers: ReadonlyMap<string, ControlHandler>,
    private readonly logger: Logger,
  ) {
    this.#server = createServer((socket) => this.#accept(socket));
  }

  listen(): Promise<void> {
    return listenControlSocket(this.#server, this.path);
  }

  get clients(): number {
    return this.#connections.size;
  }

  /** Takes no new client; each command running is aborted and its client told the service is stopping. */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#server.close();
    for (const tell of this.#connections.values()) tell();
  }

  /** Resolves once every client has gone, or after <ms>. */
  async idle(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.#connections.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Ends everything now; the socket file goes with the listener. */
  close(): void {
    this.stop();
    for (const socket of this.#connections.keys()) socket.destroy();
  }

  #accept(socket: Socket): void {
    socket.on('error', (err: NodeJS.ErrnoException) => this.logger.debug(`control: client error: ${err.code ?? err.message}`));
    if (this.#stopping || this.#connections.size >= MAX_CLIENTS) {
      const why = this.#stopping
        ? new TiError('the service is stopping', 'TI_ERR_CONTROL_NO_ANSWER')
        : new TiError(`the service already serves ${MAX_CLIENTS} control clients; try again later`, 'TI_ERR_CONTROL_BUSY');
      socket.end(formatRecord(errorRecord(why)));
      return;
    }
    const abort = new AbortController();
    const lines = new LineSplitter(MAX_REQUEST_BYTES, 'TI_ERR_CONTROL_REQUEST');
    let requested = false;
    let finished = false;
    const finish = (last: ControlRecord): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (!socket.destroyed) socket.end(formatRecord(last));
    };
    const timer = setTimeout(() => finish(errorRecord(new TiError(`no request line within ${REQUEST_TIMEOUT_MS} ms`, 'TI_ERR_CONTROL_REQUEST'))), REQUEST_TIMEOUT_MS);
    this.#connections.set(socket, () => {
      finish(errorRecord(new TiError('the service is stopping', 'TI_ERR_CONTROL_NO_ANSWER')));
      abort.abort(new Error('the service is stopping'));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      this.#connections.delete(socket);
      abort.abort(new Error('the client disconnected'));
    });
    // One request per connection: what follows its line is not read.
    socket.on('data', (chunk: Buffer) => {
      if (requested || finished) return;
      let line: string | undefined;
      try {
        [line] = lines.push(chunk);
      } catch (err) {
        finish(errorRecord(err));
        return;
      }
      if (line === undefined) return;
      requested = true;
      clearTimeout(timer);
      this.#run(line, socket, abort.signal, finish, () => finished);
    });
  }

  #run(line: string, socket: Socket, signal: AbortSignal, finish: (last: ControlRecord) => void, finished: () => boolean): void {
    let command: string;
    let args: unknown;
    try {
      ({ command, args } = parseRequest(line));
    } catch (err) {
      finish(errorRecord(err));
      return;
    }
    const handler = this.handlers.get(command);
    if (!handler) {
      const known = [...this.handlers.keys()].join(', ');
      finish(errorRecord(new TiError(`unknown command '${command}' (this service answers: ${known})`, 'TI_ERR_CONTROL_REQUEST')));
      return;
    }
    this.logger.debug(`control: ${command}`);
    const write = (record: ControlRecord): void => {
      if (finished() || socket.destroyed) return;
      socket.write(formatRecord(record));
      if (socket.writableLength > MAX_UNREAD_BYTES) {
        this.logger.warn(`control: ${command}: the client left ${MAX_UNREAD_BYTES} bytes unread; disconnected`);
        socket.destroy();
      }
    };
    (async () => handler(args, write, signal))().then(
      (status) => finish(endRecord(status)),
      (err: unknown) => {
        if (!(err instanceof TiError)) this.logger.error(`control: ${command} failed: ${(err as Error)?.stack ?? String(err)}`);
        finish(errorRecord(err));
      },
    );
  }
}
