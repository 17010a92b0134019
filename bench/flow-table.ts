// `node dist/bench/flow-table.js [flows] [seconds]`: lookups/s of FlowTable over existing flows
// (default 10,000, half IPv4 and half IPv6), both directions, with packets laid out in one receive
// area as NFQUEUE gives them; once with the offsets known (lookupAt) and once after parsePacket.
// Then inserts/s into a full table, each evicting the longest idle entry.
// Counts garbage collections during each run: lookups of existing flows must allocate nothing.
import { PerformanceObserver } from 'node:perf_hooks';
import { buildTcpPacket } from '../src/packet/build.js';
import { parsePacket, ParsedPacket } from '../src/packet/packet.js';
import { TcpFlag } from '../src/packet/tcp.js';
import { FlowTable } from '../src/pipeline/flow-table.js';

const SLOT = 128;

interface Area {
  buf: Buffer;
  ipOffsets: Int32Array;
  transportOffsets: Int32Array;
  lengths: Int32Array;
}

function layout(n: number): Area {
  const area = { buf: Buffer.alloc(2 * n * SLOT), ipOffsets: new Int32Array(2 * n), transportOffsets: new Int32Array(2 * n), lengths: new Int32Array(2 * n) };
  for (let i = 0; i < n; i++) {
    const v6 = i % 2 === 1;
    const a = v6 ? `2001:db8::${(i >> 8).toString(16)}:${(i & 255).toString(16)}` : `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
    const b = v6 ? '2001:db8:1::80' : '192.0.2.80';
    const port = 10000 + (i % 50000);
    const forward = buildTcpPacket(v6 ? { version: 6, src: a, dst: b } : { version: 4, src: a, dst: b }, { srcPort: port, dstPort: 443, seq: i, flags: TcpFlag.ACK });
    const reverse = buildTcpPacket(v6 ? { version: 6, src: b, dst: a } : { version: 4, src: b, dst: a }, { srcPort: 443, dstPort: port, seq: i, flags: TcpFlag.ACK });
    for (const [k, pkt] of [[2 * i, forward], [2 * i + 1, reverse]] as const) {
      pkt.copy(area.buf, k * SLOT);
      area.ipOffsets[k] = k * SLOT;
      area.transportOffsets[k] = k * SLOT + (v6 ? 40 : 20);
      area.lengths[k] = pkt.length;
    }
  }
  return area;
}

// GC entries arrive asynchronously: each run waits for them before it reports.
const gcStarts: number[] = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) gcStarts.push(e.startTime); }).observe({ entryTypes: ['gc'] });

/** Repeats pass (which handles `size` packets) for the given time. */
async function run(name: string, seconds: number, size: number, pass: () => number): Promise<void> {
  for (let i = 0; i < 20; i++) pass();      // warm up
  let ops = 0, check = 0;
  const start = performance.now(), end = start + seconds * 1000;
  while (performance.now() < end) {
    check += pass();
    ops += size;
  }
  const stop = performance.now(), elapsed = (stop - start) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 50));
  const gcs = gcStarts.filter((t) => t >= start && t <= stop).length;
  console.log(`${name}: ${(ops / elapsed / 1e6).toFixed(2)} M/s (${ops} in ${elapsed.toFixed(2)} s, ${gcs} GCs, check ${check})`);
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 10000), seconds = Number(process.argv[3] ?? 3);
  const area = layout(n);
  const flows = new FlowTable<number>({ idleMs: 60000, maxFlows: n });
  const p = new ParsedPacket();
  for (let k = 0; k < 2 * n; k += 2) flows.insertAt(area.buf, area.ipOffsets[k], area.transportOffsets[k], 6, k, 0);
  const { buf, ipOffsets, transportOffsets, lengths } = area;

  await run(`lookups (lookupAt), ${n} flows`, seconds, 2 * n, () => {
    let sum = 0;
    for (let k = 0; k < 2 * n; k++) {
      const h = flows.lookupAt(buf, ipOffsets[k], transportOffsets[k], 6);
      sum += flows.get(h) + flows.direction;
    }
    return sum;
  });
  await run(`lookups (parsePacket + lookup + touch), ${n} flows`, seconds, 2 * n, () => {
    let sum = 0;
    const now = performance.now();
    for (let k = 0; k < 2 * n; k++) {
      parsePacket(buf, p, ipOffsets[k], lengths[k]);
      const h = flows.lookup(p);
      flows.touch(h, now);
      sum += flows.get(h) + flows.direction;
    }
    return sum;
  });
  // Inserts into a full table of half the flows: each insert evicts the longest idle (cap).
  const full = new FlowTable<number>({ idleMs: 60000, maxFlows: n / 2 });
  let k = 0;
  await run(`inserts, each evicting one (cap ${n / 2})`, seconds, n, () => {
    let sum = 0;
    for (let i = 0; i < n; i++, k = (k + 2) % (2 * n)) sum += full.insertAt(buf, ipOffsets[k], transportOffsets[k], 6, k, 0);
    return sum;
  });
  await run(`parsePacket alone, for comparison`, seconds, 2 * n, () => {
    let sum = 0;
    for (let k = 0; k < 2 * n; k++) sum += parsePacket(buf, p, ipOffsets[k], lengths[k]) + p.transportOffset;
    return sum;
  });
}

await main();
