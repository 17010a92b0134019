// The control socket's `trace` command: a trace by the running service, its records streamed to
// the client as they come; the final status is the command's exit status.
import type { ControlHandler } from '../control/control-server.js';
import type { TraceComponent } from '../trace/trace-component.js';
import { checkTraceArgs, traceExitStatus, type RawTraceArgs } from './trace-args.js';

export function traceHandler(trace: TraceComponent): ControlHandler {
  return async (args, write, signal) => {
    const t = checkTraceArgs((args ?? {}) as RawTraceArgs);
    return new Promise<number>((resolve, reject) => {
      trace.trace({
        destination: t.destination, port: t.port, settings: t.settings, waitMs: t.waitMs,
        onRecord: (r) => {
          write({ ...r });
          if (r.type === 'done') resolve(traceExitStatus(r.reached, r.reason === 'no-flow'));
        },
      }).then((cancel) => signal.addEventListener('abort', cancel, { once: true }), reject);
    });
  };
}
