// The control socket's file: listen on it with mode 0660, replace one a crashed run left behind
// (nothing answers on it), and refuse to take over one a running service answers on.
import { chmodSync, existsSync, lstatSync, rmSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { dirname } from 'node:path';
import { StartupError } from '../errors.js';

const MODE = 0o660;

const errno = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

function socketError(path: string, err: unknown): StartupError {
  // libuv reports a missing directory as EACCES too.
  const why = existsSync(dirname(path)) ? errno(err) : 'no such directory';
  const hint = why === 'EACCES' ? ' (the directory is not writable for this user)' : '';
  return new StartupError(`--control-socket: cannot listen on '${path}': ${why}${hint}`, 'TI_ERR_CONTROL_SOCKET');
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: Error): void => reject(err);
    server.once('error', failed);
    server.listen(path, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** Whether a process accepts connections on <path>: false for a socket nobody listens on. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(new StartupError(`--control-socket: cannot tell whether '${path}' is in use: ${errno(err)}`, 'TI_ERR_CONTROL_SOCKET'));
    });
  });
}

async function removeStale(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new StartupError(`--control-socket: '${path}' exists and is not a socket`, 'TI_ERR_CONTROL_SOCKET');
  if (await answers(path)) {
    throw new StartupError(`--control-socket: another tcp-intercept answers on '${path}'; stop it or give this one another --control-socket`, 'TI_ERR_CONTROL_IN_USE');
  }
  rmSync(path, { force: true });
}

/** Listens on <path> with mode 0660. Closing <server> removes the file (libuv unlinks it). */
export async function listenControlSocket(server: Server, path: string): Promise<void> {
  try {
    await listen(server, path);
  } catch (err) {
    if (errno(err) !== 'EADDRINUSE') throw socketError(path, err);
    await removeStale(path);
    await listen(server, path).catch((again: unknown) => {
      throw socketError(path, again);
    });
  }
  try {
    chmodSync(path, MODE);
  } catch (err) {
    server.close();
    throw socketError(path, err);
  }
}
