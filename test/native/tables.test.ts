// The tables shared by the addon and TypeScript: the addon exports them (addon/tables.cc), the
// readers take them at load; this fails when the two sides disagree.
import t, { type Test } from 'tap';
import { addon, type CloseReason, type Layout } from '../../src/native/addon.js';
import { EVENT_RECORD_READS } from '../../src/native/event-record.js';
import { fieldOffsets, namedValues } from '../../src/native/tables.js';
import { Code, PACKET_RECORD_READS, PacketFlag } from '../../src/nfq/batch.js';
import { resultLabel } from '../../src/metrics/proxy-metrics.js';

const native = addon();
const { layouts } = native;

// Record<CloseReason, ...> makes tsc check that this lists every name of the TypeScript type;
// the numbers are the interface (logs, metric labels): never renumbered.
const REASON_NUMBERS: Record<CloseReason, number> = {
  eof: 0, 'client-reset': 1, 'server-reset': 2, refused: 3, unreachable: 4, 'connect-timeout': 5,
  'idle-timeout': 6, limit: 7, error: 8, shutdown: 9, loop: 10,
};
const RESULT_LABELS = ['completed', 'reset', 'refused', 'unreachable', 'timeout', 'idle_timeout', 'limit', 'loop', 'error', 'shutdown'];

t.test('close reasons: unique, in their stable order, each with a documented metric label', async (t) => {
  const names = native.closeReasons;
  t.equal(new Set(names).size, names.length, 'no name twice');
  t.same(names, Object.keys(REASON_NUMBERS).sort((a, b) => REASON_NUMBERS[a as CloseReason] - REASON_NUMBERS[b as CloseReason]),
    'the addon numbers them as they always were');
  for (const name of names) t.ok(RESULT_LABELS.includes(resultLabel(name as CloseReason)), `${name} -> result="${resultLabel(name as CloseReason)}"`);
});

function checkReads(t: Test, layout: Layout, what: string, reads: Readonly<Record<string, number>>): void {
  for (const [name, width] of Object.entries(reads)) {
    t.equal(layout.sizes[name], width, `${what}.${name}: read as ${width} bytes, ${layout.sizes[name] ?? 'missing'} in the addon`);
    t.ok(layout.fields[name] + width <= layout.size, `${what}.${name} lies inside the ${layout.size}-byte record`);
  }
}

t.test('every field TypeScript reads exists in the addon with the width it is read at', async (t) => {
  for (const part of ['event', 'endpoint', 'tcpInfo', 'leg'] as const) checkReads(t, layouts[part], part, EVENT_RECORD_READS[part]);
  checkReads(t, layouts.packet, 'packet', PACKET_RECORD_READS);
});

t.test('event record: sizes and overlaps', async (t) => {
  const { fields, sizes, size } = layouts.event;
  t.equal(size % 8, 0, `records follow each other 8-aligned (${size} bytes)`);
  const span = (f: string): [number, number] => [fields[f], fields[f] + sizes[f]];
  const disjoint = (names: string[]): boolean =>
    names.every((a, i) => names.slice(i + 1).every((b) => span(a)[1] <= span(b)[0] || span(b)[1] <= span(a)[0]));
  const header = ['type', 'reason', 'errLeg', 'flags', 'errno', 'id', 'client', 'target', 'local'];
  t.ok(disjoint([...header, 'connectUs', 'clientLeg', 'serverLeg']), 'open records: no two fields overlap');
  t.ok(disjoint([...header, 'c2s', 's2c', 'durationUs', 'clientInfo', 'serverInfo']), 'close records: no two fields overlap');
  t.equal(layouts.endpoint.size, sizes.client, 'endpoints are whole endpoint structs');
  t.equal(layouts.tcpInfo.size, sizes.clientInfo, 'TCP_INFO parts are whole');
  t.equal(layouts.leg.size, sizes.clientLeg, 'leg option parts are whole');
});

t.test('packet record, flags and verdict codes', async (t) => {
  const { packet } = layouts;
  t.equal(packet.size % 4, 0, 'whole u32 words');
  t.ok(Object.values(packet.fields).every((off) => off % 4 === 0), 'every field on a word');
  const flags = Object.values(PacketFlag);
  t.same(flags, Object.values(native.packetFlags), 'PacketFlag is the addon\'s table');
  t.ok(flags.every((f) => f > 0 && (f & (f - 1)) === 0 && f < 2 ** (32 - packet.infoFlagsShift)), 'each flag one bit that fits the info word');
  t.equal(new Set(flags).size, flags.length, 'no flag twice');
  t.same(Code, native.verdictCodes, 'Code is the addon\'s table');
  t.equal(new Set(Object.values(Code)).size, Object.keys(Code).length, 'no verdict code twice');
  t.equal(Code.DEFAULT, 0, 'DEFAULT is 0: the addon zeroes the code table before each batch');
});

t.test('a disagreement fails at load, naming the field', async (t) => {
  const layout: Layout = { size: 8, fields: { a: 0, b: 4 }, sizes: { a: 4, b: 4 } };
  t.same(fieldOffsets(layout, 'x', { a: 4, b: 4 }), { a: 0, b: 4 });
  t.throws(() => fieldOffsets(layout, 'x record', { c: 4 }), /x record: the addon has no field 'c'/);
  t.throws(() => fieldOffsets(layout, 'x record', { b: 8 }), /x record: field 'b' is 4 bytes in the addon, read as 8/);
  t.throws(() => namedValues({ A: 1 }, 'x codes', ['A', 'B']), /x codes: the addon has no 'B'/);
});
