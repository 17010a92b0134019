// `status` over the control socket: one record with the version, the process and each
// component's status line (as systemd's STATUS= has them).
import type { Component } from '../host/component.js';
import type { ControlRecord } from './control-protocol.js';
import type { ControlHandler } from './control-server.js';

export interface StatusRecord extends ControlRecord {
  type: 'status';
  version: string;
  pid: number;
  uptimeSeconds: number;
  components: Array<{ name: string; status: string }>;
}

export function statusHandler(version: string, components: readonly Component[]): ControlHandler {
  return async (_args, write) => {
    const record: StatusRecord = {
      type: 'status',
      version,
      pid: process.pid,
      uptimeSeconds: Math.round(process.uptime()),
      components: components.map((c) => ({ name: c.name, status: c.status() })),
    };
    write(record);
    return 0;
  };
}
