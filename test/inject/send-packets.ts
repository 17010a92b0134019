// Runs inside a lab namespace: performs the steps given as JSON in argv[2] with an Injector, or
// with a bare RawSocket of one family ("via": 4 | 6), and prints one JSON line: what each step
// gave (a send's result, or the Error it threw) and the injector's counters.
import { Injector } from '../../src/inject/injector.js';
import { addon, type NativeRawSocket } from '../../src/native/addon.js';

export type Via = 'injector' | 4 | 6;
/** offset and length are passed on to a bare RawSocket's send(). */
export type Step = { op: 'send'; hex: string; via: Via; offset?: number; length?: number } | { op: 'close'; via: Via };
export interface Plan { mark: number; priority: number; steps: Step[] }
export type Outcome = { result: string | null } | { error: { message: string; code?: string } };
export interface Report { outcomes: Outcome[]; sent: number; failed: Record<string, number> }

const plan = JSON.parse(process.argv[2]) as Plan;
const options = { mark: plan.mark, priority: plan.priority };
const injector = new Injector(options);
const sockets = new Map<4 | 6, NativeRawSocket>();

function rawSocket(family: 4 | 6): NativeRawSocket {
  let socket = sockets.get(family);
  if (!socket) {
    socket = new (addon().RawSocket)(family, options);
    sockets.set(family, socket);
  }
  return socket;
}

function perform(step: Step): Outcome {
  try {
    if (step.op === 'close') {
      if (step.via === 'injector') injector.close();
      else rawSocket(step.via).close();
      return { result: null };
    }
    const packet = Buffer.from(step.hex, 'hex');
    if (step.via === 'injector') return { result: injector.send(packet) };
    return { result: rawSocket(step.via).send(packet, step.offset, step.length) };
  } catch (e) {
    const { message, code } = e as Error & { code?: string };
    return { error: { message, code } };
  }
}

const report: Report = { outcomes: plan.steps.map(perform), sent: injector.sent, failed: { ...injector.failed } };
process.stdout.write(`${JSON.stringify(report)}\n`);
