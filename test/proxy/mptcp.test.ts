// --mptcp: the server leg is a real MPTCP connection (the server checks TCP_IS_MPTCP), while
// the client keeps plain TCP.
import t from 'tap';
import { proxyLab } from '../helpers/proxy-lab.js';

const env = await proxyLab(t, 'mptcp', 6);
const { lab } = env;

// An MPTCP listener (IPPROTO_MPTCP = 262) that answers each connection with whether it is
// really MPTCP (TCP_IS_MPTCP = 43) and how many bytes it read.
const SERVER = `
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, 262)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('::', 7002)); s.listen(16)
print('listening', flush=True)
while True:
    c, addr = s.accept()
    n = 0
    while True:
        d = c.recv(65536)
        if not d: break
        n += len(d)
    c.sendall(('mptcp=%d bytes=%d peer=%s\\n' % (c.getsockopt(socket.SOL_TCP, 43), n, addr[0])).encode())
    c.close()
`;

t.test('the server leg runs MPTCP', async (t) => {
  const server = lab.spawn('server', 'python3', ['-c', SERVER]);
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
