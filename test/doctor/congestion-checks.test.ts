import t from 'tap';
import { congestionChecks } from '../../src/doctor/congestion-checks.js';
import { fakeSystem, settings } from './fake-system.js';

t.test('unset legs use the kernel default, said so', async (t) => {
  const [client, server] = congestionChecks(fakeSystem(), settings());
  t.same([client.id, client.level, server.id, server.level], ['congestion.client', 'ok', 'congestion.server', 'ok']);
  t.match(client.message, /the kernel's default congestion control, cubic/);
});

t.test('available and allowed, or available and needing CAP_NET_ADMIN', async (t) => {
  const [client, server] = congestionChecks(fakeSystem(), settings({}, { cc: { client: 'cubic', server: 'bbr' } }));
  t.match(client.message, /cubic is available \(allowed for every process\)/);
  t.equal(server.level, 'ok');
  t.match(server.message, /bbr is available \(not in tcp_allowed_congestion_control: the service needs CAP_NET_ADMIN in its namespace, which the unit grants\)/);
});

t.test('a module not loaded warns with modprobe; one not in the kernel fails with the choice', async (t) => {
  const [, htcp] = congestionChecks(fakeSystem({ kernelConfig: 'CONFIG_TCP_CONG_HTCP=m\n' }), settings({}, { cc: { client: '', server: 'htcp' } }));
  t.equal(htcp.level, 'warn');
  t.match(htcp.fix, /^modprobe tcp_htcp && echo tcp_htcp > \/etc\/modules-load\.d\//);
  const [, vegas] = congestionChecks(fakeSystem({ kernelConfig: '# CONFIG_TCP_CONG_VEGAS is not set\n' }), settings({}, { cc: { client: '', server: 'vegas' } }));
  t.equal(vegas.level, 'fail');
  t.match(vegas.message, /vegas is not in this kernel \(available: reno, cubic, bbr\): the service will not start/);
  t.equal(vegas.fix, '--cc-server one of reno, cubic, bbr');
});

t.test('no proxy, no legs', async (t) => {
  t.same(congestionChecks(fakeSystem(), settings({ proxy: null })), []);
});
