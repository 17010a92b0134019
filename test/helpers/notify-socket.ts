// A datagram listener like systemd's $NOTIFY_SOCKET in a lab namespace, and what it received.
import type { Lab, LabProcess } from '../lab/lab.js';

/** Listens on <address> (a path, or @name for an abstract socket) and prints each message as one JSON line. */
export async function notifySocket(lab: Lab, address: string): Promise<LabProcess> {
  const bind = address.startsWith('@') ? `'\\0${address.slice(1)}'` : `'${address}'`;
  const p = lab.spawn('router', 'python3', ['-u', '-c', `
import json, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(${bind})
print('bound', flush=True)
while True:
    print(json.dumps(s.recv(4096).decode()), flush=True)`]);
  await p.waitForOutput(/bound/);
  return p;
}

export const messages = (p: LabProcess): string[] =>
  p.stdout().split('\n').filter((l) => l.startsWith('"')).map((l) => JSON.parse(l) as string);

/** Waits until the messages so far pass <check>. */
export async function until(p: LabProcess, check: (m: string[]) => boolean, what: string, timeoutMs = 5000): Promise<string[]> {
  for (let i = 0; i < timeoutMs / 25; i++) {
    if (check(messages(p))) return messages(p);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never saw ${what}; got ${JSON.stringify(messages(p))}`);
}
