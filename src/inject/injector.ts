// Sends raw IP packets (header included) through one RawSocket per family, opened on first use,
// and counts the outcomes. Send failures are returned and counted, never thrown: under load
// EAGAIN and ENOBUFS are expected and the caller decides what they mean.
import { StartupError } from '../errors.js';
import { addon, type NativeRawSocket } from '../native/addon.js';

export interface InjectorOptions {
  /** SO_MARK of every injected packet, so our own rules can skip them; 0 for none. */
  mark: number;
  /** SO_PRIORITY (skb->priority) of every injected packet. */
  priority: number;
}

export class Injector {
  readonly #options: InjectorOptions;
  readonly #sockets = new Map<4 | 6, NativeRawSocket>();
  readonly #failed: Record<string, number> = {};
  #sent = 0;
  #closed = false;

  constructor(options: InjectorOptions) {
    this.#options = { mark: options.mark, priority: options.priority };
  }

  /** Packets the kernel accepted. */
  get sent(): number {
    return this.#sent;
  }

  /** Failed sends by errno code. */
  get failed(): Readonly<Record<string, number>> {
    return this.#failed;
  }

  /**
   * Sends one whole IPv4 or IPv6 packet to the destination in its header; null when sent, else
   * the errno code. Throws on bytes that are not such a packet, after close(), and when the
   * socket cannot be opened (EPERM without CAP_NET_RAW).
   */
  send(packet: Buffer): string | null {
    if (this.#closed) throw new Error('Injector.send: the injector is closed');
    const version = packet.length > 0 ? packet[0] >> 4 : -1;
    if (version !== 4 && version !== 6) {
      throw new Error(`Injector.send: not an IPv4 or IPv6 packet (${packet.length ? `version ${version}` : 'empty'})`);
    }
    const error = this.#socket(version).send(packet);
    if (error === null) this.#sent++;
    else this.#failed[error] = (this.#failed[error] ?? 0) + 1;
    return error;
  }

  /** Opens the sockets of both families now, so that a missing CAP_NET_RAW shows at start (throws as send does). */
  open(): void {
    if (this.#closed) throw new Error('Injector.open: the injector is closed');
    this.#socket(4);
    this.#socket(6);
  }

  /** Idempotent. */
  close(): void {
    this.#closed = true;
    for (const socket of this.#sockets.values()) socket.close();
    this.#sockets.clear();
  }

  #socket(family: 4 | 6): NativeRawSocket {
    let socket = this.#sockets.get(family);
    if (!socket) {
      socket = new (addon().RawSocket)(family, this.#options);
      this.#sockets.set(family, socket);
    }
    return socket;
  }
}

/**
 * An Injector with both sockets open, for a stage that must know at start whether it can send;
 * <what> names the stage and its packets in the error (exit 77 without CAP_NET_RAW).
 */
export function openInjector(options: InjectorOptions, what: string): Injector {
  const injector = new Injector(options);
  try {
    injector.open();
  } catch (err) {
    const denied = (err as NodeJS.ErrnoException).code === 'EPERM';
    throw new StartupError(`${what}: ${(err as Error).message}${denied ? ' (needs CAP_NET_RAW)' : ''}`,
      denied ? 'TI_ERR_INJECT_PERMISSION' : 'TI_ERR_INJECT');
  }
  return injector;
}
