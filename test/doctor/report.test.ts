import t from 'tap';
import { exitStatus, fail, info, ok, warn } from '../../src/doctor/finding.js';
import { jsonReport, textReport } from '../../src/doctor/report.js';

const findings = [ok('a', 'fine'), info('b', 'noted'), warn('c', 'slow', 'do x'), fail('d', 'broken', 'do y')];

t.test('exit status: 1 for any warning or failure, else 0', async (t) => {
  t.equal(exitStatus(findings), 1);
  t.equal(exitStatus([ok('a', 'x'), info('b', 'y', 'z')]), 0);
  t.equal(exitStatus([warn('c', 'slow', 'do x')]), 1);
  t.equal(exitStatus([]), 0);
});

t.test('text: a line each, the fix indented, a summary', async (t) => {
  t.equal(textReport(findings), [
    'ok    fine', 'info  noted', 'warn  slow', '      fix: do x', 'FAIL  broken', '      fix: do y', '',
    '1 ok, 1 info, 1 warn, 1 fail: something will not work', '',
  ].join('\n'));
  t.match(textReport([ok('a', 'fine')]), /1 ok: nothing to change\n$/);
});

t.test('json: one object per line, then the summary', async (t) => {
  const lines = jsonReport(findings, 1).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.same(lines[0], { type: 'finding', id: 'a', level: 'ok', message: 'fine', fix: null });
  t.same(lines[3], { type: 'finding', id: 'd', level: 'fail', message: 'broken', fix: 'do y' });
  t.same(lines[4], { type: 'summary', ok: 1, info: 1, warn: 1, fail: 1, status: 1, verdict: 'something will not work' });
});
