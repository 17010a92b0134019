// The pure ACKs one host sends, captured with tcpdump where they leave it or where they arrive,
// and how many of them were duplicates: a mobile's duplicate ACKs against those its sender saw.
import type { Lab, LabProcess } from '../lab/lab.js';

export interface AckCount {
  /** ACKs without payload */
  acks: number;
  /** duplicate ACKs (see countAcks) */
  dupacks: number;
  /** packets tcpdump reported as dropped by the kernel (the counts are short by up to this) */
  dropped: number;
}

export interface AckCapture {
  process: LabProcess;
  stop(): Promise<AckCount>;
}

// "IP 198.18.248.2.41234 > 198.18.251.2.7001: Flags [.], ack 1234, win 501, options [nop,nop,TS val 1 ecr 2,nop,nop,sack 1 {1:2}], length 0"
const LINE = /^\S+ IP6? (\S+) > (\S+): Flags \[([^\]]*)\],(?: seq [^,]+,)? ack (\d+), win (\d+),(?: options \[([^\]]*)\],)? length (\d+)/;

/**
 * A duplicate ACK repeats its connection's previous ACK number without payload, and either has
 * the same window or reports data above it in SACK blocks: a receiver's window moves while
 * out-of-order data fills its buffer, and the same ACK with only a new window is a window update.
 */
export function countAcks(text: string): Omit<AckCount, 'dropped'> {
  const last = new Map<string, { ack: string; win: string }>();
  let acks = 0;
  let dupacks = 0;
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, src, dst, flags, ack, win, options = '', length] = m;
    const flow = `${src}>${dst}`;
    if (flags === '.' && length === '0') {
      acks++;
      const prev = last.get(flow);
      if (prev?.ack === ack && (prev.win === win || /\bsack \d/.test(options))) dupacks++;
    }
    last.set(flow, { ack, win });
  }
  return { acks, dupacks };
}

/** Starts tcpdump on <ifname> of <host> for the TCP packets <from> sends; resolves once it listens. */
export async function captureAcks(lab: Lab, host: string, ifname: string, from: string): Promise<AckCapture> {
  const p = lab.spawn(host, 'tcpdump', ['-i', ifname, '-nn', '-S', '-l', '-s', '160', '-B', '16384', `tcp and src host ${from}`]);
  const stop = async (): Promise<AckCount> => {
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
    await p.exited;
    clearTimeout(timer);
    const dropped = Number(/(\d+) packets? dropped by kernel/.exec(p.stderr())?.[1] ?? NaN);
    return { ...countAcks(p.stdout()), dropped };
  };
  await p.waitForOutput(/listening on /, 10_000).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { process: p, stop };
}
