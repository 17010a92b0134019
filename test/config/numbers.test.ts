import t from 'tap';
import { wholeRange } from '../../src/config/numbers.js';

t.test('wholeRange takes a number or FIRST:LAST', async (t) => {
  t.same(wholeRange('7', '--queue', 0, 65535), { first: 7, last: 7 });
  t.same(wholeRange(' 4:7 ', '--queue', 0, 65535), { first: 4, last: 7 });
  t.same(wholeRange('5:5', '--queue', 0, 65535), { first: 5, last: 5 });
});

t.test('wholeRange refuses what is not a range in bounds, naming the flag', async (t) => {
  t.throws(() => wholeRange('7:4', '--queue', 0, 65535), /--queue: '7:4' is a range whose end comes before its start/);
  t.throws(() => wholeRange('1:2:3', '--queue', 0, 65535), /--queue: '1:2:3' is not a number or a range FIRST:LAST/);
  t.throws(() => wholeRange('0:70000', '--queue', 0, 65535), /--queue: '70000' is not a whole number from 0 to 65535/);
  t.throws(() => wholeRange(':3', '--queue', 0, 65535), /--queue: '' is not a whole number/);
  t.throws(() => wholeRange('a:b', '--queue', 0, 65535), /--queue: 'a' is not a whole number/);
});
