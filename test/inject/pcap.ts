// The IP packets in a classic pcap file that tcpdump -w wrote on an Ethernet (or veth) device,
// link header and any frame padding removed.
const ETHERNET = 1;
const ETH_HEADER_LEN = 14;
const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;

export function pcapIpPackets(file: Buffer): Buffer[] {
  const magic = file.readUInt32LE(0);
  const le = magic === MAGIC_US || magic === MAGIC_NS;
  if (!le && file.readUInt32BE(0) !== MAGIC_US && file.readUInt32BE(0) !== MAGIC_NS) throw new Error('not a pcap file');
  const u32 = (off: number): number => (le ? file.readUInt32LE(off) : file.readUInt32BE(off));
  if (u32(20) !== ETHERNET) throw new Error(`pcap link type ${u32(20)}, not Ethernet`);
  const packets: Buffer[] = [];
  for (let off = 24; off + 16 <= file.length; ) {
    const captured = u32(off + 8);
    const frame = file.subarray(off + 16, off + 16 + captured);
    if (captured !== u32(off + 12)) throw new Error('pcap record cut by the snap length');
    const ip = frame.subarray(ETH_HEADER_LEN);
    const length = ip[0] >> 4 === 4 ? ip.readUInt16BE(2) : 40 + ip.readUInt16BE(4);
    packets.push(ip.subarray(0, length));
    off += 16 + captured;
  }
  return packets;
}
