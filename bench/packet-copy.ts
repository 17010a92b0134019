// `node dist/bench/packet-copy.js [seconds]`: copies/s of copyPacket (an ArrayBuffer per copy)
// against Buffer.from of a subarray (a pool slice that pins an 8 KiB slab), for 60, 1500 and
// 9000-byte packets out of one receive area. Each run keeps the last 4096 copies alive, as a stage
// holding packets would.
import { copyPacket } from '../src/pipeline/packet-copy.js';

const SLOT = 9216;
const area = new Uint8Array(64 * SLOT).map((_, i) => i);
const kept: Buffer[] = new Array(4096);

function run(name: string, seconds: number, length: number, copy: (start: number, length: number) => Buffer): void {
  for (let i = 0; i < 100000; i++) kept[i & 4095] = copy((i & 63) * SLOT, length);
  let n = 0;
  const start = performance.now(), end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++, n++) kept[n & 4095] = copy((n & 63) * SLOT, length);
  }
  const elapsed = (performance.now() - start) / 1000;
  console.log(`${name}, ${length} bytes: ${(n / elapsed / 1e6).toFixed(2)} M copies/s`);
}

const seconds = Number(process.argv[2] ?? 2);
for (const length of [60, 1500, 9000]) {
  run('copyPacket', seconds, length, (start, length) => copyPacket(area, start, length));
  run('Buffer.from(subarray)', seconds, length, (start, length) => Buffer.from(area.subarray(start, start + length)));
}
