// The control server and client in one process: dispatch, streaming, every client mistake an
// error line, abort on disconnect and at stop, the client limit, the socket file's life.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import winston from 'winston';
import { askService } from '../../src/control/control-client.js';
import { MAX_CLIENTS, MAX_REQUEST_BYTES, type ControlRecord } from '../../src/control/control-protocol.js';
import { ControlServer, type ControlHandler } from '../../src/control/control-server.js';
import { TiError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ti-control-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const logger = winston.createLogger({ silent: true });
let n = 0;
const socketPath = (): string => join(dir, `c${++n}.sock`);

/** Sends <data> and collects the answer's lines until the service closes. */
function exchange(path: string, data: string | Buffer): Promise<ControlRecord[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const s = connect(path, () => s.write(data));
    s.setEncoding('utf8').on('data', (d: string) => (text += d));
    s.on('error', reject);
    s.on('close', () => resolve(text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as ControlRecord)));
  });
}

async function serve(t: Test, handlers: Record<string, ControlHandler>, path = socketPath()): Promise<ControlServer> {
  const server = new ControlServer(path, new Map(Object.entries(handlers)), logger);
  await server.listen();
  t.teardown(() => server.close());
  return server;
}

const until = async (check: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const echo: ControlHandler = async (args, write) => {
  write({ type: 'echo', args });
  write({ type: 'echo', again: true });
  return 7;
};

t.test('a command streams its records, then the final status', async (t) => {
  const server = await serve(t, { echo });
  t.equal(statSync(server.path).mode & 0o777, 0o660, 'the socket is rw for owner and group only');
  t.same(await exchange(server.path, '{"command":"echo","args":{"x":1}}\n'), [
    { type: 'echo', args: { x: 1 } },
    { type: 'echo', again: true },
    { type: 'end', status: 7 },
  ]);
  const seen: ControlRecord[] = [];
  t.equal(await askService(server.path, 'echo', { y: 2 }, (r) => seen.push(r)), 7, 'askService resolves with the status');
  t.same(seen, [{ type: 'echo', args: { y: 2 } }, { type: 'echo', again: true }], 'and hands over each record');
});

t.test('every client mistake is an error line, and the server serves on', async (t) => {
  const server = await serve(t, { echo });
  const cases: Array<[string | Buffer, RegExp]> = [
    ['garbage\n', /not JSON/],
    ['[]\n', /not a JSON object/],
    ['{"command":"nope"}\n', /unknown command 'nope' \(this service answers: echo\)/],
    [Buffer.alloc(MAX_REQUEST_BYTES + 10, 'x'), /longer than 65536 bytes/],
  ];
  for (const [data, message] of cases) {
    const lines = await exchange(server.path, data);
    t.equal(lines.length, 1, 'one line');
    t.match(lines[0], { type: 'error', code: 'TI_ERR_CONTROL_REQUEST', message }, String(data).slice(0, 30));
  }
  await t.rejects(askService(server.path, 'nope', {}, () => undefined), { code: 'TI_ERR_CONTROL_REQUEST', exitCode: 64 }, 'the client rejects with the code');
  t.equal(await askService(server.path, 'echo', {}, () => undefined), 7, 'still serving');
});

t.test('a failing command: a TiError keeps its code, anything else is TI_ERR_CONTROL_FAILED', async (t) => {
  const server = await serve(t, {
    refused: async () => {
      throw new TiError('queue busy', 'TI_ERR_QUEUE_BUSY');
    },
    broken: () => {
      throw new Error('oops');
    },
  });
  await t.rejects(askService(server.path, 'refused', {}, () => undefined), { code: 'TI_ERR_QUEUE_BUSY', message: 'queue busy', exitCode: 69 });
  await t.rejects(askService(server.path, 'broken', {}, () => undefined), { code: 'TI_ERR_CONTROL_FAILED', message: 'oops' }, 'a synchronous throw too');
});

t.test('a client that disconnects aborts its command', async (t) => {
  let aborted: unknown = null;
  const server = await serve(t, {
    wait: (_args, write, signal) => new Promise((resolve) => {
      write({ type: 'started' });
      signal.addEventListener('abort', () => {
        aborted = signal.reason;
        resolve(0);
      });
    }),
  });
  const stop = new AbortController();
  const asked = askService(server.path, 'wait', {}, () => stop.abort(new Error('enough')), { signal: stop.signal });
  await t.rejects(asked, { message: 'enough' }, "the client's own abort rejects with its reason");
  await until(() => aborted !== null);
  t.match(aborted, { message: /client disconnected/ }, 'the command sees its signal abort');
  await until(() => server.clients === 0);
  t.pass('and the connection is gone');
});

t.test('at most MAX_CLIENTS at once; one more is told it is busy', async (t) => {
  const release: Array<() => void> = [];
  const server = await serve(t, { hold: () => new Promise((resolve) => release.push(() => resolve(0))) });
  const held = Array.from({ length: MAX_CLIENTS }, () => askService(server.path, 'hold', {}, () => undefined));
  await until(() => release.length === MAX_CLIENTS);
  await t.rejects(askService(server.path, 'hold', {}, () => undefined), { code: 'TI_ERR_CONTROL_BUSY' });
  for (const r of release) r();
  t.same(await Promise.all(held), new Array(MAX_CLIENTS).fill(0), 'those served end normally');
});

t.test('stopping tells running clients, and closing removes the socket file', async (t) => {
  const server = await serve(t, { hold: (_a, _w, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(0))) });
  const asked = askService(server.path, 'hold', {}, () => undefined);
  await until(() => server.clients === 1);
  server.stop();
  await t.rejects(asked, { code: 'TI_ERR_CONTROL_NO_ANSWER', message: /stopping/ });
  await server.idle(2000);
  server.close();
  t.notOk(existsSync(server.path), 'the socket file is gone');
  t.equal(await askService(server.path, 'hold', {}, () => undefined), null, 'no service: null');
});

t.test('the socket file: a stale one is replaced, a live one refused, anything else left alone', async (t) => {
  const path = socketPath();
  // A socket whose process died without closing it (SIGKILL): nothing answers on it.
  const dead = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  await new Promise((resolve) => dead.on('exit', resolve));
  t.ok(statSync(path).isSocket(), 'a stale socket file is there');
  t.equal(await askService(path, 'echo', {}, () => undefined), null, 'nobody answers on it: null, no error');
  await serve(t, { echo }, path);
  t.equal(await askService(path, 'echo', {}, () => undefined), 7, 'replaced by a live one');

  await t.rejects(new ControlServer(path, new Map(), logger).listen(), { code: 'TI_ERR_CONTROL_IN_USE', message: /another tcp-intercept answers on/ });
  t.equal(await askService(path, 'echo', {}, () => undefined), 7, 'the live one still answers');

  const file = join(dir, 'regular');
  writeFileSync(file, 'mine');
  await t.rejects(new ControlServer(file, new Map(), logger).listen(), { code: 'TI_ERR_CONTROL_SOCKET', message: /exists and is not a socket/ });
  t.ok(existsSync(file), 'a file that is not a socket is not removed');
  await t.rejects(new ControlServer(join(dir, 'no/such/dir.sock'), new Map(), logger).listen(), { code: 'TI_ERR_CONTROL_SOCKET', message: /cannot listen on '.*no\/such\/dir\.sock': no such directory/ });
});

t.test('a client timeout', async (t) => {
  const server = await serve(t, { hold: (_a, _w, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(0))) });
  await t.rejects(askService(server.path, 'hold', {}, () => undefined, { timeoutMs: 100 }), { code: 'TI_ERR_CONTROL_NO_ANSWER', message: /within 100 ms/ });
  await until(() => server.clients === 0);
  t.pass('the command is aborted');
});
