// The key of a flow, read from a packet's bytes into reused words: IP version, protocol, both
// addresses and both ports. Its hash is the same for both directions of a connection, and match()
// says which direction a stored key is in, so one entry serves A->B and B->A.
import { ipv4Text, ipv6Text } from '../packet/ip.js';

/** Words per key: meta (version << 8 | protocol), source address (4), destination address (4), ports. */
export const KEY_WORDS = 10;
const META = 0;
const SRC = 1;
const DST = 5;
const PORTS = 9;

function word(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

// MurmurHash3's block step and finaliser, on int32 values.
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class FlowKey {
  readonly words = new Int32Array(KEY_WORDS);
  /** Int32, equal for the key and its reverse. */
  hash = 0;
  #addressWords = 1;
  #reversePorts = 0;

  /**
   * Reads the key of a packet whose headers were checked (parsePacket, or QuotedPacket for a quote):
   * the version from buf[ipOffset], ports from the first 4 bytes at transportOffset (TCP, UDP).
   */
  read(buf: Uint8Array, ipOffset: number, transportOffset: number, protocol: number): void {
    const w = this.words;
    const v6 = buf[ipOffset] >> 4 === 6;
    const n = v6 ? 4 : 1;
    const src = ipOffset + (v6 ? 8 : 12);
    const dst = ipOffset + (v6 ? 24 : 16);
    for (let i = 0; i < n; i++) {
      w[SRC + i] = word(buf, src + 4 * i);
      w[DST + i] = word(buf, dst + 4 * i);
    }
    for (let i = n; i < 4; i++) w[SRC + i] = w[DST + i] = 0;
    const srcPort = (buf[transportOffset] << 8) | buf[transportOffset + 1];
    const dstPort = (buf[transportOffset + 2] << 8) | buf[transportOffset + 3];
    w[PORTS] = (srcPort << 16) | dstPort;
    w[META] = ((v6 ? 6 : 4) << 8) | protocol;
    this.#addressWords = n;
    this.#reversePorts = (dstPort << 16) | srcPort;

    let s = mix(0, srcPort), d = mix(0, dstPort);
    for (let i = 0; i < n; i++) {
      s = mix(s, w[SRC + i]);
      d = mix(d, w[DST + i]);
    }
    // A commutative sum of the two endpoints' hashes: the reverse key hashes alike.
    this.hash = finish(mix(finish(s) + finish(d), w[META]));
  }

  /** 0 when keys[base...] holds this key, 1 when it holds its reverse, -1 when neither. */
  match(keys: Int32Array, base: number): number {
    const w = this.words, n = this.#addressWords;
    if (keys[base + META] !== w[META]) return -1;
    const ports = keys[base + PORTS];
    if (ports === w[PORTS] && this.#same(keys, base + SRC, SRC, n) && this.#same(keys, base + DST, DST, n)) return 0;
    if (ports === this.#reversePorts && this.#same(keys, base + SRC, DST, n) && this.#same(keys, base + DST, SRC, n)) return 1;
    return -1;
  }

  store(keys: Int32Array, base: number): void {
    keys.set(this.words, base);
  }

  #same(keys: Int32Array, at: number, from: number, n: number): boolean {
    const w = this.words;
    for (let i = 0; i < n; i++) if (keys[at + i] !== w[from + i]) return false;
    return true;
  }
}

/** "10.0.0.1:40000 > 10.0.0.2:80 proto 6" for the stored key at keys[base...], in its stored direction. */
export function keyText(keys: Int32Array, base: number): string {
  const v6 = keys[base + META] >> 8 === 6;
  const bytes = Buffer.alloc(32);
  for (let i = 0; i < 8; i++) bytes.writeInt32BE(keys[base + SRC + i], 4 * i);
  const ports = keys[base + PORTS];
  const src = v6 ? `[${ipv6Text(bytes, 0)}]` : ipv4Text(bytes, 0);
  const dst = v6 ? `[${ipv6Text(bytes, 16)}]` : ipv4Text(bytes, 16);
  return `${src}:${ports >>> 16} > ${dst}:${ports & 0xffff} proto ${keys[base + META] & 0xff}`;
}
