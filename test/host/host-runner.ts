// Runs inside a lab router: the service's host with the proxy and a packet pipeline of test
// stages in one process, on one queue (number in argv[2]). Stages, in order:
//   drop-odd  decides: drops IPv4 echo requests with an odd sequence number; on sequence 3 it
//             then tries to accept the packet too (a second decision, which must be refused)
//   delay     decides: holds IPv6 echo requests for DELAY_MS on a DeadlineScheduler, then releases
//             each and tries to release it once more (a verdict for a ref not held: refused)
//   flows     passes everything: tracks TCP flows in a FlowTable with a short idle time
// Each stage prints `stage <name> {json}` when the host stops.
import { addon } from '../../src/native/addon.js';
import { loadServiceOptions } from '../../src/config/load-options.js';
import { runHost } from '../../src/host/run-host.js';
import { ProxyComponent } from '../../src/proxy/proxy-component.js';
import { PipelineComponent } from '../../src/pipeline/pipeline-component.js';
import { DeadlineScheduler } from '../../src/pipeline/deadlines.js';
import { FlowTable } from '../../src/pipeline/flow-table.js';
import type { PacketStage, StageContext } from '../../src/pipeline/stage.js';
import type { StagePacket } from '../../src/pipeline/stage-packet.js';
import { IpProto } from '../../src/packet/index.js';
import { INJECTION_MARK } from '../../src/config/marks.js';
import type { PacketRef } from '../../src/nfq/batch.js';

export const DELAY_MS = 60;
const FLOW_IDLE_MS = 300;
const ECHO_REQUEST = { 4: 8, 6: 128 } as const;

const queue = Number(process.argv[2]);

/** The echo sequence number of an IPv<version> echo request, or -1. */
function echoRequestSeq(p: StagePacket, version: 4 | 6): number {
  const parsed = p.parse();
  if (!parsed || parsed.version !== version || parsed.protocol !== (version === 4 ? IpProto.ICMP : IpProto.ICMPV6)) return -1;
  const b = p.bytes, at = parsed.transportOffset - parsed.ip().off;
  return b[at] === ECHO_REQUEST[version] ? b.readUInt16BE(at + 6) : -1;
}

const dropOdd = { dropped: 0, secondDecisionRefused: 0 };
const dropOddStage: PacketStage = {
  name: 'drop-odd',
  describe: () => 'drops odd IPv4 echo requests',
  onPacket(p) {
    const seq = echoRequestSeq(p, 4);
    if (seq < 0 || seq % 2 === 0) return;
    p.drop();
    dropOdd.dropped++;
    if (seq === 3) {
      try {
        p.accept();
      } catch {
        dropOdd.secondDecisionRefused++;
      }
    }
  },
  close: () => undefined,
  report: () => [`stage drop-odd ${JSON.stringify(dropOdd)}`],
};

const delay = { held: 0, released: 0, secondReleaseRefused: 0, lateness: {} as unknown };
let release: StageContext['release'];
const scheduler = new DeadlineScheduler<PacketRef>({
  onDue: (ref) => {
    release(ref, true);
    delay.released++;
    try {
      release(ref, true);
    } catch {
      delay.secondReleaseRefused++;
    }
  },
});
const delayStage: PacketStage = {
  name: 'delay',
  attach: (ctx) => (release = ctx.release),
  describe: () => `holds IPv6 echo requests ${DELAY_MS} ms`,
  onPacket(p) {
    if (echoRequestSeq(p, 6) < 0) return;
    scheduler.schedule(performance.now() + DELAY_MS, p.hold());
    delay.held++;
  },
  close: () => scheduler.close(),
  lateness: () => scheduler.lateness(),
  report: () => [`stage delay ${JSON.stringify({ ...delay, lateness: scheduler.lateness() })}`],
};

const flowFigures = { packets: 0, created: 0, evicted: 0, directions: [0, 0] };
const flows = new FlowTable<number>({ idleMs: FLOW_IDLE_MS, maxFlows: 1000, onEvict: () => flowFigures.evicted++ });
const expiry = setInterval(() => flows.expire(performance.now()), 50).unref();
const flowStage: PacketStage = {
  name: 'flows',
  describe: () => `tracks TCP flows, idle after ${FLOW_IDLE_MS} ms`,
  onPacket(p) {
    const parsed = p.parse();
    if (!parsed || parsed.protocol !== IpProto.TCP || parsed.fragment) return;
    const now = performance.now();
    flowFigures.packets++;
    let h = flows.lookup(parsed);
    if (h < 0) {
      h = flows.insert(parsed, flowFigures.created++, now);
    } else flows.touch(h, now);
    flowFigures.directions[flows.direction]++;
  },
  close: () => clearInterval(expiry),
  report: () => [`stage flows ${JSON.stringify({ ...flowFigures, size: flows.size })}`],
};

const noConfig = '/dev/null';   // never the machine's /etc/tcp-intercept file
const { options } = loadServiceOptions({ 'log-format': 'json', 'drain-timeout': '2' }, noConfig, {}, addon());
await runHost({
  options: options.host,
  components: [
    new ProxyComponent(options.proxy!, addon()),
    new PipelineComponent({ queue: { first: queue, last: queue }, maxLen: 4096, injectionMark: INJECTION_MARK }, [dropOddStage, delayStage, flowStage]),
  ],
  version: 'test',
  printReports: true,
  reload: () => ({ host: options.host, parts: {}, file: null }),
});
