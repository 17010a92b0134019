// Reason codes are stable: logs and metric labels depend on the numbers.
import t from 'tap';
import { Reason, reasonName } from '../../src/packet/errors.js';

t.test('the codes keep their numbers', async (t) => {
  t.same(Reason, {
    OK: 0, TRUNCATED: 1, BAD_VERSION: 2, BAD_HEADER_LENGTH: 3, BAD_TOTAL_LENGTH: 4,
    BAD_CHECKSUM: 5, BAD_OPTION: 6, UNSUPPORTED: 7, BAD_EXTENSION: 8,
  });
});

t.test('names for logs', async (t) => {
  t.equal(reasonName(0), 'OK');
  t.equal(reasonName(Reason.BAD_OPTION), 'BAD_OPTION');
  t.equal(reasonName(Reason.BAD_EXTENSION), 'BAD_EXTENSION');
  t.equal(reasonName(99), 'UNKNOWN_99');
});
