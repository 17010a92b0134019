// iperf3 from the lab's client with cubic set on the sending socket (`-C cubic`): the namespaces
// inherit the host's default congestion control, which may be bbr. What the sender really ran is
// read back from iperf3's report (it asks the socket with getsockopt TCP_CONGESTION), never assumed.
import type { Lab } from './lab.js';

export const SENDER_CC = 'cubic';

export interface Goodput {
  mbit: number;
  /** the sending socket's congestion control as iperf3 read it back */
  senderCc: string;
  /** segments the sender retransmitted */
  retransmits: number;
}

interface IperfReport {
  end: {
    sum_received: { bits_per_second: number };
    sum_sent: { retransmits?: number };
    sender_tcp_congestion?: string;
  };
}

/** One iperf3 run, one stream over IPv4; <reverse>: the server sends (a download). */
export async function cubicIperf(lab: Lab, port: number, seconds: number, reverse = false): Promise<Goodput> {
  const args = ['-c', lab.server.v4, '-p', `${port}`, '-t', `${seconds}`, '-C', SENDER_CC, '-J', '--connect-timeout', '10000'];
  if (reverse) args.push('-R');
  const out = await lab.run('client', 'iperf3', args, { timeoutMs: (seconds + 60) * 1000 });
  const { end } = JSON.parse(out) as IperfReport;
  if (typeof end.sender_tcp_congestion !== 'string') {
    throw new Error(`iperf3 reported no end.sender_tcp_congestion: the sender's congestion control is unknown\n${out.slice(0, 2000)}`);
  }
  return { mbit: end.sum_received.bits_per_second / 1e6, senderCc: end.sender_tcp_congestion, retransmits: end.sum_sent.retransmits ?? 0 };
}
