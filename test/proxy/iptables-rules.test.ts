// The iptables variant of the deployment rules in the README works as the nft one does:
// interception on both families, and ICMP errors about the server legs reach the proxy.
import t from 'tap';
import { Lab } from '../lab/lab.js';
import { ProxyLab, served, waitServed } from '../helpers/proxy-lab.js';

const lab = await Lab.create({ tag: 'ipt', id: 9 });
t.teardown(() => lab.destroy());
const MARK = 1, TABLE = 100, PORT = 5000;
const script = `set -e
for ipt in iptables ip6tables; do
  $ipt -t mangle -N tcp-intercept
  $ipt -t mangle -A tcp-intercept -p tcp -m socket --transparent -j MARK --set-mark ${MARK}
  $ipt -t mangle -A tcp-intercept -p tcp -m socket --transparent -j RETURN
  $ipt -t mangle -A tcp-intercept -m addrtype --dst-type LOCAL -j RETURN
  $ipt -t mangle -A tcp-intercept -i ${lab.clientIf} -p tcp --syn -j TPROXY --on-port ${PORT} --tproxy-mark ${MARK}
  $ipt -t mangle -A PREROUTING -j tcp-intercept
done
iptables  -t mangle -I tcp-intercept -p icmp      -m socket --transparent -j MARK --set-mark ${MARK}
ip6tables -t mangle -I tcp-intercept -p ipv6-icmp -m socket --transparent -j MARK --set-mark ${MARK}
ip rule add fwmark ${MARK} lookup ${TABLE}
ip route add local 0.0.0.0/0 dev lo table ${TABLE}
ip -6 rule add fwmark ${MARK} lookup ${TABLE}
ip -6 route add local ::/0 dev lo table ${TABLE}
`;
await lab.run('router', 'sh', ['-c', script]);
await lab.run('server', 'nft', ['-f', '-'], {
  input: `table inet unreach {
    chain input { type filter hook input priority 0; policy accept;
      tcp dport 7998 reject with icmpx type host-unreachable
    }
  }\n`,
});
const env = new ProxyLab(lab);
const server = await env.serve(7001);
await env.startProxy([]);

t.test('both families are intercepted and relayed', async (t) => {
  for (const family of ['v4', 'v6'] as const) {
    const before = served(server).length;
    const s = await env.xfer(lab.server[family], 7001, ['--bytes', '4m', '--back', '4m']);
    t.equal(s.ok, 1, `IPv${family[1]} transfer ok`);
    const [conn] = (await waitServed(server, before + 1)).slice(before);
    t.equal(conn.remote, lab.client[family], "server sees the client's address");
  }
  t.equal(env.closeLogs().length, 2, 'both went through the proxy');
});

t.test('ICMP host-unreachable reaches the proxy, which resets the client at once', async (t) => {
  const s = await env.xfer(lab.server.v4, 7998, ['--bytes', '1k', '--back', '0', '--timeout-ms', '5000']);
  t.equal(s.errors.ECONNRESET, 1, 'the client was reset');
  t.ok(s.elapsedMs < 1000, `at once (${s.elapsedMs} ms)`);
  const line = env.closeLogs().pop();
  t.match(line, { message: /unreachable$/ });
  await env.stopProxy();
});
