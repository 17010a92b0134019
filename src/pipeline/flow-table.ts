// Per-flow state for packet stages, found from a packet's bytes in either direction.
//
// Contract: lookup() finds the entry of a packet A->B or B->A and sets `direction` (0: the way the
// packet that created the entry went, 1: the reverse); it allocates nothing. Entries stay in the
// order they were last touched, so expire(now) and the maxFlows cap let the longest idle go first,
// each through onEvict. A handle is valid until its entry is deleted or evicted; keep the value,
// not the handle, across turns of the loop. `now` must never decrease (performance.now()).
//
// A stage, per packet:   let h = flows.lookup(p);
//                        if (h < 0) h = flows.insert(p, new FlowState(), now); else flows.touch(h, now);
//                        const state = flows.get(h), dir = flows.direction;
// and per batch:         flows.expire(now);
import type { ParsedPacket } from '../packet/packet.js';
import { FlowKey, KEY_WORDS, keyText } from './flow-key.js';

export type EvictReason = 'idle' | 'cap';

export interface FlowTableOptions<T> {
  /** expire(now) evicts entries untouched for longer than this. */
  idleMs: number;
  /** Inserting into a full table evicts the longest idle entry first. */
  maxFlows: number;
  onEvict?: (value: T, reason: EvictReason) => void;
  /** Entries allocated up front; the table doubles as it fills, up to maxFlows. */
  initialCapacity?: number;
}

const NONE = -1;

export class FlowTable<T> {
  readonly idleMs: number;
  readonly maxFlows: number;
  /** Set by lookup() and insert(): 0 or 1, the direction of the packet they were given. */
  direction = 0;
  readonly evictions = { idle: 0, cap: 0 };

  readonly #onEvict: ((value: T, reason: EvictReason) => void) | null;
  readonly #key = new FlowKey();
  #size = 0;
  #capacity = 0;
  // Entries, by handle.
  #keys = new Int32Array(0);
  #hashes = new Int32Array(0);
  #lastSeen = new Float64Array(0);
  #values: (T | undefined)[] = [];
  #used = new Uint8Array(0);
  // Used entries form a list from the least to the most recently touched; free ones a stack on #next.
  #prev = new Int32Array(0);
  #next = new Int32Array(0);
  #oldest = NONE;
  #newest = NONE;
  #free = NONE;
  // Open addressing with linear probing: handles by hash, at most half full.
  #index = new Int32Array(0);
  #mask = 0;

  constructor(options: FlowTableOptions<T>) {
    const { idleMs, maxFlows } = options;
    if (!(idleMs > 0)) throw new RangeError(`idleMs must be positive, not ${idleMs}`);
    if (!Number.isInteger(maxFlows) || maxFlows < 1 || maxFlows > 2 ** 26) {
      throw new RangeError(`maxFlows must be an integer from 1 to 2^26, not ${maxFlows}`);
    }
    this.idleMs = idleMs;
    this.maxFlows = maxFlows;
    this.#onEvict = options.onEvict ?? null;
    this.#grow(Math.min(maxFlows, Math.max(1, options.initialCapacity ?? 1024)));
  }

  get size(): number {
    return this.#size;
  }

  /** The entry of a parsed TCP or UDP packet (not a later fragment: see p.fragment), or -1. */
  lookup(p: ParsedPacket): number {
    const ip = p.ip();
    return this.lookupAt(ip.buf, ip.off, p.transportOffset, p.protocol);
  }

  /** The entry of checked headers at these offsets (an ICMP error's quote, say), or -1. */
  lookupAt(buf: Uint8Array, ipOffset: number, transportOffset: number, protocol: number): number {
    this.#key.read(buf, ipOffset, transportOffset, protocol);
    return this.#find();
  }

  /** Adds the packet's flow, which must not be in the table, in direction 0. */
  insert(p: ParsedPacket, value: T, now: number): number {
    const ip = p.ip();
    return this.insertAt(ip.buf, ip.off, p.transportOffset, p.protocol, value, now);
  }

  insertAt(buf: Uint8Array, ipOffset: number, transportOffset: number, protocol: number, value: T, now: number): number {
    this.#key.read(buf, ipOffset, transportOffset, protocol);
    if (this.#find() !== NONE) throw new Error(`flow ${keyText(this.#key.words, 0)} is already in the table`);
    if (this.#free === NONE) {
      if (this.#capacity < this.maxFlows) this.#grow(Math.min(this.#capacity * 2, this.maxFlows));
      else this.#evict(this.#oldest, 'cap');
    }
    const h = this.#free;
    this.#free = this.#next[h];
    this.#key.store(this.#keys, h * KEY_WORDS);
    this.#hashes[h] = this.#key.hash;
    this.#values[h] = value;
    this.#used[h] = 1;
    this.#lastSeen[h] = now;
    this.#append(h);
    this.#place(h);
    this.#size++;
    this.direction = 0;
    return h;
  }

  get(handle: number): T {
    return this.#values[handle] as T;
  }

  /** Marks the entry as seen now: it becomes the last to expire. */
  touch(handle: number, now: number): void {
    this.#lastSeen[handle] = now;
    if (handle === this.#newest) return;
    this.#unlink(handle);
    this.#append(handle);
  }

  /** The handle of the longest idle entry, or -1 when the table is empty. */
  oldest(): number {
    return this.#oldest;
  }

  lastSeen(handle: number): number {
    return this.#lastSeen[handle];
  }

  /** Removes the entry without telling onEvict; false if the handle holds no entry. */
  delete(handle: number): boolean {
    if (!(handle >= 0 && handle < this.#capacity && this.#used[handle] === 1)) return false;
    this.#remove(handle);
    return true;
  }

  /** Evicts, through onEvict, every entry idle for longer than idleMs; returns how many. */
  expire(now: number): number {
    const before = now - this.idleMs;
    let n = 0;
    while (this.#oldest !== NONE && this.#lastSeen[this.#oldest] < before) {
      this.#evict(this.#oldest, 'idle');
      n++;
    }
    return n;
  }

  /** Visits every entry from the longest idle to the most recent; fn may delete the entry it is given. */
  forEach(fn: (value: T, handle: number) => void): void {
    for (let h = this.#oldest; h !== NONE; ) {
      const next = this.#next[h];
      fn(this.#values[h] as T, h);
      h = next;
    }
  }

  /** The entry's addresses and ports in direction 0, for logs and stats. */
  describe(handle: number): string {
    return keyText(this.#keys, handle * KEY_WORDS);
  }

  #find(): number {
    const key = this.#key, hash = key.hash, index = this.#index, hashes = this.#hashes, keys = this.#keys, mask = this.#mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const h = index[i];
      if (h === NONE) return NONE;
      if (hashes[h] === hash) {
        const d = key.match(keys, h * KEY_WORDS);
        if (d >= 0) {
          this.direction = d;
          return h;
        }
      }
    }
  }

  #evict(h: number, reason: EvictReason): void {
    const value = this.#values[h] as T;
    this.#remove(h);
    this.evictions[reason]++;
    this.#onEvict?.(value, reason);
  }

  #remove(h: number): void {
    this.#displace(h);
    this.#unlink(h);
    this.#values[h] = undefined;
    this.#used[h] = 0;
    this.#next[h] = this.#free;
    this.#free = h;
    this.#size--;
  }

  #place(h: number): void {
    const index = this.#index, mask = this.#mask;
    let i = this.#hashes[h] & mask;
    while (index[i] !== NONE) i = (i + 1) & mask;
    index[i] = h;
  }

  // Takes h out of the index by backward shift: later entries of the probe run move into the hole
  // when their home slot allows, so lookups never need tombstones.
  #displace(h: number): void {
    const index = this.#index, hashes = this.#hashes, mask = this.#mask;
    let hole = hashes[h] & mask;
    while (index[hole] !== h) hole = (hole + 1) & mask;
    for (let j = (hole + 1) & mask; index[j] !== NONE; j = (j + 1) & mask) {
      const home = hashes[index[j]] & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        index[hole] = index[j];
        hole = j;
      }
    }
    index[hole] = NONE;
  }

  #append(h: number): void {
    this.#prev[h] = this.#newest;
    this.#next[h] = NONE;
    if (this.#newest === NONE) this.#oldest = h;
    else this.#next[this.#newest] = h;
    this.#newest = h;
  }

  #unlink(h: number): void {
    const prev = this.#prev[h], next = this.#next[h];
    if (prev === NONE) this.#oldest = next;
    else this.#next[prev] = next;
    if (next === NONE) this.#newest = prev;
    else this.#prev[next] = prev;
  }

  #grow(capacity: number): void {
    const old = this.#capacity;
    this.#keys = extend(this.#keys, new Int32Array(capacity * KEY_WORDS));
    this.#hashes = extend(this.#hashes, new Int32Array(capacity));
    this.#lastSeen = extend(this.#lastSeen, new Float64Array(capacity));
    this.#used = extend(this.#used, new Uint8Array(capacity));
    this.#prev = extend(this.#prev, new Int32Array(capacity));
    this.#next = extend(this.#next, new Int32Array(capacity));
    this.#values.length = capacity;
    this.#capacity = capacity;
    // The new entries go on the free stack, lowest handle on top.
    for (let h = capacity - 1; h >= old; h--) {
      this.#next[h] = this.#free;
      this.#free = h;
    }
    let slots = 2;
    while (slots < 2 * capacity) slots *= 2;
    this.#index = new Int32Array(slots).fill(NONE);
    this.#mask = slots - 1;
    for (let h = this.#oldest; h !== NONE; h = this.#next[h]) this.#place(h);
  }
}

function extend<A extends Int32Array | Float64Array | Uint8Array>(from: A, to: A): A {
  to.set(from);
  return to;
}
