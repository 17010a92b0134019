// The client's end of the control socket: one request, its records handed over as they come,
// the final status. No service there (no socket file, nobody listening) is not an error: the
// answer is null, and the caller does the work itself.
import { connect } from 'node:net';
import { TiError } from '../errors.js';
import { formatRequest, LineSplitter, MAX_RECORD_BYTES, parseRecord, recordError, type ControlRecord } from './control-protocol.js';

export interface AskOptions {
  /** the whole exchange, at most; none by default */
  timeoutMs?: number;
  /** aborting closes the connection (the service aborts the command) and rejects with its reason */
  signal?: AbortSignal;
}

const NO_SERVICE = new Set(['ENOENT', 'ECONNREFUSED']);
const REFUSED = new Set(['EACCES', 'EPERM']);

function connectError(path: string, err: NodeJS.ErrnoException): TiError {
  if (REFUSED.has(err.code ?? '')) {
    return new TiError(`permission denied on the control socket '${path}': run as root or as a member of the group _tcp-intercept`, 'TI_ERR_CONTROL_PERMISSION');
  }
  return new TiError(`cannot connect to the control socket '${path}': ${err.code ?? err.message}`, 'TI_ERR_CONTROL_SOCKET');
}

function finalStatus(record: ControlRecord): number {
  if (Number.isInteger(record.status)) return record.status as number;
  throw new TiError('the service ended its answer without a status', 'TI_ERR_CONTROL_NO_ANSWER');
}

/**
 * Asks the service on <path> to run <command>: each record line but the last goes to <onRecord>;
 * resolves with the final status, or null when no service listens there. An error line from the
 * service rejects with a TiError of its code.
 */
export function askService(
  path: string,
  command: string,
  args: unknown,
  onRecord: (record: ControlRecord) => void,
  options: AskOptions = {},
): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const lines = new LineSplitter(MAX_RECORD_BYTES, 'TI_ERR_CONTROL_NO_ANSWER');
    let connected = false;
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      outcome();
    };
    const fail = (err: unknown): void => settle(() => reject(err));
    const onAbort = (): void => fail(options.signal?.reason);
    const timer = options.timeoutMs === undefined ? undefined
      : setTimeout(() => fail(new TiError(`no answer from the service on '${path}' within ${options.timeoutMs} ms`, 'TI_ERR_CONTROL_NO_ANSWER')), options.timeoutMs);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort);

    socket.on('connect', () => {
      connected = true;
      socket.write(formatRequest(command, args));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && NO_SERVICE.has(err.code ?? '')) settle(() => resolve(null));
      else fail(connected ? new TiError(`the control connection to '${path}' failed: ${err.code ?? err.message}`, 'TI_ERR_CONTROL_NO_ANSWER') : connectError(path, err));
    });
    socket.on('close', () => fail(new TiError(`the service on '${path}' closed the connection without a final answer`, 'TI_ERR_CONTROL_NO_ANSWER')));
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const line of lines.push(chunk)) {
          if (settled) return;
          const record = parseRecord(line);
          if (record.type === 'end') settle(() => resolve(finalStatus(record)));
          else if (record.type === 'error') fail(recordError(record));
          else onRecord(record);
        }
      } catch (err) {
        fail(err);
      }
    });
  });
}
