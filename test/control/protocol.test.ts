// The control protocol's lines: requests, records, errors, and the line splitter's limit.
import t from 'tap';
import {
  errorRecord,
  formatRecord,
  formatRequest,
  LineSplitter,
  parseRecord,
  parseRequest,
  recordError,
} from '../../src/control/control-protocol.js';
import { TiError } from '../../src/errors.js';

t.test('a request: a command and its arguments', async (t) => {
  t.same(parseRequest('{"command":"trace","args":{"dest":"10.0.0.1"}}'), { command: 'trace', args: { dest: '10.0.0.1' } });
  t.same(parseRequest('{"command":"status"}'), { command: 'status', args: {} }, 'no args: an empty object');
  t.same(parseRequest(formatRequest('status', { json: true }).trimEnd()), { command: 'status', args: { json: true } }, 'formatRequest makes what parseRequest reads');
  t.ok(formatRequest('status', {}).endsWith('\n'), 'one line');
});

t.test('a bad request is a TI_ERR_CONTROL_REQUEST that says what is wrong', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['garbage', /not JSON/],
    ['', /not JSON/],
    ['[1,2]', /not a JSON object/],
    ['null', /not a JSON object/],
    ['"status"', /not a JSON object/],
    ['{"args":{}}', /no "command" string/],
    ['{"command":""}', /no "command" string/],
    ['{"command":42}', /no "command" string/],
  ];
  for (const [line, message] of cases) {
    t.throws(() => parseRequest(line), { code: 'TI_ERR_CONTROL_REQUEST', message }, JSON.stringify(line));
  }
});

t.test('records and errors round-trip', async (t) => {
  t.same(parseRecord(formatRecord({ type: 'status', pid: 1 }).trimEnd()), { type: 'status', pid: 1 });
  t.throws(() => parseRecord('nope'), { code: 'TI_ERR_CONTROL_NO_ANSWER' });
  t.throws(() => parseRecord('{"status":0}'), { code: 'TI_ERR_CONTROL_NO_ANSWER', message: /without a "type"/ });

  const busy = errorRecord(new TiError('too many', 'TI_ERR_CONTROL_BUSY'));
  t.same(busy, { type: 'error', code: 'TI_ERR_CONTROL_BUSY', message: 'too many' }, 'a TiError keeps its code');
  t.same(errorRecord(new Error('boom')), { type: 'error', code: 'TI_ERR_CONTROL_FAILED', message: 'boom' }, 'anything else: the command failed');
  const back = recordError(busy);
  t.equal(back.code, 'TI_ERR_CONTROL_BUSY');
  t.equal(back.exitCode, 69);
  t.equal(recordError({ type: 'error', code: 'TI_ERR_FROM_THE_FUTURE', message: 'x' }).code, 'TI_ERR_CONTROL_FAILED', 'an unknown code: the command failed');
  t.equal(recordError({ type: 'error' }).message, 'the service reported an error');
});

t.test('lines split across chunks, several per chunk, CRLF', async (t) => {
  const s = new LineSplitter(100, 'TI_ERR_CONTROL_REQUEST');
  t.same(s.push(Buffer.from('{"a"')), []);
  t.same(s.push(Buffer.from(':1}\n{"b":2}\r\n{"c"')), ['{"a":1}', '{"b":2}']);
  t.same(s.push(Buffer.from(':3}\n')), ['{"c":3}']);
  t.same(s.push(Buffer.from('\n')), [''], 'an empty line is a line');
  const euro = Buffer.from('"€"\n');
  t.same([...s.push(euro.subarray(0, 2)), ...s.push(euro.subarray(2))], ['"€"'], 'a character split between chunks');
});

t.test('a line longer than the limit throws with the given code', async (t) => {
  const s = new LineSplitter(10, 'TI_ERR_CONTROL_REQUEST');
  t.same(s.push(Buffer.from('0123456789\n')), ['0123456789'], 'exactly the limit passes');
  t.throws(() => s.push(Buffer.from('01234567890')), { code: 'TI_ERR_CONTROL_REQUEST', message: /longer than 10 bytes/ });
  const slow = new LineSplitter(10, 'TI_ERR_CONTROL_NO_ANSWER');
  slow.push(Buffer.from('012345'));
  t.throws(() => slow.push(Buffer.from('67890')), { code: 'TI_ERR_CONTROL_NO_ANSWER' }, 'counted over chunks');
});
