// The control socket's protocol: newline-delimited JSON. A client sends one request line,
// {"command":NAME,"args":{...}}; the service answers with record lines, {"type":...} objects,
// and ends with {"type":"end","status":N} or {"type":"error","code":"TI_ERR_...","message":...},
// then closes. A client that disconnects aborts the command.
import { ERROR_CODES, TiError, type ErrorCode } from '../errors.js';

/** A request line longer than this is refused. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** A record line longer than this ends a client's reading (a broken or foreign peer). */
export const MAX_RECORD_BYTES = 1 << 20;
/** Clients served at once; one more gets TI_ERR_CONTROL_BUSY. */
export const MAX_CLIENTS = 8;
/** A client has this long to send its request line. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** Answer bytes a client may leave unread; a client further behind is disconnected. */
export const MAX_UNREAD_BYTES = 4 << 20;

export interface ControlRequest {
  command: string;
  args: unknown;
}

/** One line of an answer; a command's own records use any type but 'end' and 'error'. */
export interface ControlRecord {
  type: string;
  [field: string]: unknown;
}

export interface EndRecord extends ControlRecord {
  type: 'end';
  status: number;
}

export interface ErrorRecord extends ControlRecord {
  type: 'error';
  code: ErrorCode;
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const requestError = (message: string): TiError => new TiError(message, 'TI_ERR_CONTROL_REQUEST');

/** One request line (without its newline); a TiError TI_ERR_CONTROL_REQUEST says what is wrong with it. */
export function parseRequest(line: string): ControlRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw requestError('the request is not JSON');
  }
  if (!isObject(value)) throw requestError('the request is not a JSON object');
  const { command, args } = value;
  if (typeof command !== 'string' || command === '') throw requestError('the request has no "command" string');
  return { command, args: args ?? {} };
}

export const formatRequest = (command: string, args: unknown): string => `${JSON.stringify({ command, args })}\n`;

export const formatRecord = (record: ControlRecord): string => `${JSON.stringify(record)}\n`;

export const endRecord = (status: number): EndRecord => ({ type: 'end', status });

/** The error line for a failure: a TiError keeps its code; anything else is the command failing. */
export function errorRecord(err: unknown): ErrorRecord {
  if (err instanceof TiError) return { type: 'error', code: err.code, message: err.message };
  return { type: 'error', code: 'TI_ERR_CONTROL_FAILED', message: err instanceof Error ? err.message : String(err) };
}

/** One answer line as a client reads it. */
export function parseRecord(line: string): ControlRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new TiError('the service sent a line that is not JSON', 'TI_ERR_CONTROL_NO_ANSWER');
  }
  if (!isObject(value) || typeof value.type !== 'string') throw new TiError('the service sent a line without a "type"', 'TI_ERR_CONTROL_NO_ANSWER');
  return value as ControlRecord;
}

/** The TiError an error line stands for (a code this client does not know: the command failed). */
export function recordError(record: ControlRecord): TiError {
  const message = typeof record.message === 'string' ? record.message : 'the service reported an error';
  const code = typeof record.code === 'string' && record.code in ERROR_CODES ? (record.code as ErrorCode) : 'TI_ERR_CONTROL_FAILED';
  return new TiError(message, code);
}

/**
 * Splits a byte stream into lines (a trailing CR dropped), holding at most <maxBytes> of one:
 * push() throws a TiError with <code> when a line grows longer.
 */
export class LineSplitter {
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly code: ErrorCode,
  ) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.#hold(chunk.subarray(start, nl));
      lines.push(Buffer.concat(this.#pending).toString('utf8').replace(/\r$/, ''));
      this.#pending = [];
      this.#pendingBytes = 0;
      start = nl + 1;
    }
    this.#hold(chunk.subarray(start));
    return lines;
  }

  #hold(part: Buffer): void {
    this.#pendingBytes += part.length;
    if (this.#pendingBytes > this.maxBytes) throw new TiError(`a line is longer than ${this.maxBytes} bytes`, this.code);
    if (part.length) this.#pending.push(part);
  }
}
