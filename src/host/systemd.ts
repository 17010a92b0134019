// systemd readiness (Type=notify): a no-op unless systemd gave us $NOTIFY_SOCKET.
import { addon } from '../native/addon.js';

export function sdNotify(...lines: string[]): void {
  const socket = process.env.NOTIFY_SOCKET;
  if (socket) addon().notify(socket, lines.join('\n'));
}
