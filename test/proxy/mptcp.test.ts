// --mptcp: the server leg is a real MPTCP connection (the server checks TCP_IS_MPTCP), while
// the client keeps plain TCP.
import t from 'tap';
import { proxyLab } from '../helpers/proxy-lab.js';
import { MPTCP_SERVER } from '../helpers/mptcp-server.js';

const env = await proxyLab(t, 'mptcp', 6);
const { lab } = env;


t.test('the server leg runs MPTCP', async (t) => {
  const server = lab.spawn('server', 'python3', ['-c', MPTCP_SERVER]);
  await server.waitForOutput(/listening/);
  await env.startProxy(['--mptcp', '--cc-server', 'cubic', '-n', '-k', '--log-level', 'debug']);
  for (const family of ['v4', 'v6'] as const) {
    const reply = await lab.run('client', 'python3', ['-c', `
import socket
c = socket.create_connection(('${lab.server[family]}', 7002))
print('client-mptcp=%d' % c.getsockopt(socket.SOL_TCP, 43))
c.sendall(b'x' * 1000000); c.shutdown(socket.SHUT_WR)
print(c.makefile().read().strip())`]);
    t.match(reply, /client-mptcp=0/, `IPv${family[1]}: the client leg is plain TCP`);
    t.match(reply, /mptcp=1 bytes=1000000/, `IPv${family[1]}: the server saw an MPTCP connection and every byte`);
    t.match(reply, new RegExp(`peer=(::ffff:)?${lab.client[family]}\\n?`), "and the client's address");
  }
  const open = env.logs().find((l) => String(l.message).startsWith('open '));
  t.match(open, { serverLeg: { mptcp: true, nodelay: true, keepalive: true }, clientLeg: { mptcp: false } });
  await env.stopProxy();
  server.kill();
});
