// The example configuration shipped under etc/ loads as it is and mentions every option.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadServiceOptions } from '../../src/config/load-options.js';
import { SERVICE_OPTIONS } from '../../src/config/option-table.js';

const example = fileURLToPath(new URL('../../etc/tcp-intercept.yaml', import.meta.url));
const probes = { probeCongestion: () => null, probeMptcp: () => null };

t.test('etc/tcp-intercept.yaml loads', async (t) => {
  const { options, file } = loadServiceOptions({}, example, {}, probes);
  t.equal(file, example);
  t.same(options.proxy?.listen, [{ host: '::', port: 5000 }]);
  t.equal(options.proxy?.engine.serverLeg.cc, 'bbr', 'its one non-default value applies');
  t.equal(options.proxy?.engine.clientLeg.cc, '', 'the client leg keeps the kernel default');
  t.same(options.host.metrics, { host: '127.0.0.1', port: 5099 });
});

t.test('it mentions every option, set or commented out', async (t) => {
  const text = readFileSync(example, 'utf8');
  for (const o of SERVICE_OPTIONS) t.match(text, new RegExp(`^#? ?${o.key}:`, 'm'), o.key);
});
