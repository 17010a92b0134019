// --control-socket: a path, 'off', or 'auto' (what 'auto' means is the caller's: the service's
// runtime directory under systemd, the packaged path for a client).
import { isAbsolute, join } from 'node:path';
import { optionError } from '../errors.js';
import { DEFAULT_CONTROL_SOCKET } from './option-table.js';
import type { Values } from './values.js';

/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_PATH_BYTES = 107;

/** 'auto' for the service: control.sock in the first of systemd's RuntimeDirectory= paths, if any. */
export function runtimeControlSocket(env: NodeJS.ProcessEnv): string | null {
  const dir = env.RUNTIME_DIRECTORY?.split(':')[0];
  return dir ? join(dir, 'control.sock') : null;
}

/** The socket's path, or null for none; <what> names where the value came from. */
export function controlSocketPath(value: string, what: string, auto: string | null): string | null {
  if (value === 'off') return null;
  const path = value === 'auto' ? auto : value;
  if (path === null) return null;
  if (!isAbsolute(path)) throw optionError(what, `'${path}' is not an absolute path (or 'off', 'auto')`);
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw optionError(what, `'${path}' is longer than a Unix socket path may be (${MAX_PATH_BYTES} bytes)`);
  return path;
}

/** A client's path to the service's socket ('auto': the packaged unit's), or null when 'off'. */
export const clientControlSocket = (v: Values): string | null =>
  controlSocketPath(v.str('control-socket') ?? DEFAULT_CONTROL_SOCKET, v.what('control-socket'), DEFAULT_CONTROL_SOCKET);
