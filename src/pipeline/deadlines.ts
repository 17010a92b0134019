// Many deadlines on one Node timer: a binary min-heap of (due, item), in performance.now()
// milliseconds and added in any order, and one timer armed for its head.
//
// Contract: onDue(item, lateMs) is called once per deadline that comes due, in order of due time,
// never from inside schedule(), cancel() or reschedule(); deadlines within 0.5 ms of the timer's
// firing go with it (Node timers fire on whole milliseconds), so lateMs may be down to -0.5. A
// handle names one deadline until it fires or is cancelled; after that it names nothing.
import { LatenessHistogram, type LatenessSnapshot } from './lateness-histogram.js';

export interface DeadlineOptions<T> {
  onDue: (item: T, lateMs: number) => void;
  /** The timer does not keep the process alive. */
  unref?: boolean;
}

const EARLY_MS = 0.5;
const MAX_TIMER_MS = 2 ** 31 - 1;
// handle = generation << SLOT_BITS | slot, a small integer. The generation (8 bits) changes each
// time a slot is freed, so a stale handle finds nothing instead of another deadline.
const SLOT_BITS = 22;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
const MAX_SLOTS = 1 << SLOT_BITS;

export class DeadlineScheduler<T> {
  readonly #onDue: (item: T, lateMs: number) => void;
  readonly #unref: boolean;
  readonly #lateness = new LatenessHistogram();
  // Deadlines by slot.
  #due = new Float64Array(0);
  #items: (T | undefined)[] = [];
  #generation = new Uint8Array(0);
  /** Where the slot is in #heap, or -1 when it is free. */
  #position = new Int32Array(0);
  #freeSlots = new Int32Array(0);
  #freeCount = 0;
  // Slots ordered by due time: #heap[0] is the earliest.
  #heap = new Int32Array(0);
  #length = 0;

  #timer: NodeJS.Timeout | null = null;
  #timerDue = Infinity;
  #firing = false;
  #closed = false;

  constructor(options: DeadlineOptions<T>) {
    this.#onDue = options.onDue;
    this.#unref = options.unref ?? false;
    this.#grow(64);
  }

  /** Deadlines waiting. */
  get size(): number {
    return this.#length;
  }

  schedule(due: number, item: T): number {
    if (this.#closed) throw new Error('the deadline scheduler is closed');
    if (Number.isNaN(due)) throw new RangeError('a deadline cannot be NaN');
    if (this.#freeCount === 0) this.#grow(this.#position.length * 2);
    const slot = this.#freeSlots[--this.#freeCount];
    this.#due[slot] = due;
    this.#items[slot] = item;
    this.#heap[this.#length] = slot;
    this.#position[slot] = this.#length++;
    this.#siftUp(this.#position[slot]);
    this.#arm();
    return (this.#generation[slot] << SLOT_BITS) | slot;
  }

  /** False when the handle names no waiting deadline (it fired, was cancelled, or the scheduler closed). */
  cancel(handle: number): boolean {
    const slot = this.#slotOf(handle);
    if (slot < 0) return false;
    this.#removeAt(this.#position[slot]);
    this.#release(slot);
    this.#arm();
    return true;
  }

  /** Moves a waiting deadline, earlier or later; false as for cancel(). */
  reschedule(handle: number, due: number): boolean {
    if (Number.isNaN(due)) throw new RangeError('a deadline cannot be NaN');
    const slot = this.#slotOf(handle);
    if (slot < 0) return false;
    const old = this.#due[slot];
    this.#due[slot] = due;
    if (due < old) this.#siftUp(this.#position[slot]);
    else this.#siftDown(this.#position[slot]);
    this.#arm();
    return true;
  }

  lateness(): LatenessSnapshot {
    return this.#lateness.snapshot();
  }

  /** Drops every deadline without calling onDue; schedule() throws from now on. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#length = 0;
    this.#items = [];
  }

  #fire = (): void => {
    this.#timer = null;
    this.#timerDue = Infinity;
    this.#firing = true;
    try {
      const now = performance.now(), limit = now + EARLY_MS;
      while (this.#length > 0 && !this.#closed) {
        const slot = this.#heap[0], due = this.#due[slot];
        if (due > limit) break;
        const item = this.#items[slot] as T;
        this.#removeAt(0);
        this.#release(slot);
        this.#lateness.record(now - due);
        this.#onDue(item, now - due);
      }
    } finally {
      this.#firing = false;
      this.#arm();
    }
  };

  // The timer is set again only when the head is earlier than the timer it has: a later head
  // (after a cancel) lets the timer fire early, find nothing due and re-arm.
  #arm(): void {
    if (this.#firing || this.#closed) return;
    if (this.#length === 0) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
      this.#timerDue = Infinity;
      return;
    }
    const due = this.#due[this.#heap[0]];
    if (this.#timer && this.#timerDue <= due) return;
    if (this.#timer) clearTimeout(this.#timer);
    // Node runs a timer once whole milliseconds have passed: ceil, less what may go early. Past
    // its limit (about 24.8 days, or Infinity) Node would fire in 1 ms: wait the limit instead.
    const delay = Math.ceil(due - performance.now() - EARLY_MS);
    this.#timer = setTimeout(this.#fire, Math.min(Math.max(1, delay), MAX_TIMER_MS));
    if (this.#unref) this.#timer.unref();
    this.#timerDue = due;
  }

  #slotOf(handle: number): number {
    if (this.#closed || !(handle >= 0)) return -1;
    const slot = handle & SLOT_MASK;
    if (slot >= this.#position.length || this.#position[slot] < 0 || this.#generation[slot] !== handle >>> SLOT_BITS) return -1;
    return slot;
  }

  #release(slot: number): void {
    this.#items[slot] = undefined;
    this.#position[slot] = -1;
    this.#generation[slot]++;
    this.#freeSlots[this.#freeCount++] = slot;
  }

  #removeAt(i: number): void {
    const last = this.#heap[--this.#length];
    if (i === this.#length) return;
    this.#heap[i] = last;
    this.#position[last] = i;
    this.#siftDown(i);
    this.#siftUp(this.#position[last]);
  }

  #siftUp(i: number): void {
    const heap = this.#heap, due = this.#due, position = this.#position;
    const slot = heap[i], d = due[slot];
    while (i > 0) {
      const parent = (i - 1) >> 1, p = heap[parent];
      if (due[p] <= d) break;
      heap[i] = p;
      position[p] = i;
      i = parent;
    }
    heap[i] = slot;
    position[slot] = i;
  }

  #siftDown(i: number): void {
    const heap = this.#heap, due = this.#due, position = this.#position, n = this.#length;
    const slot = heap[i], d = due[slot];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && due[heap[child + 1]] < due[heap[child]]) child++;
      const c = heap[child];
      if (d <= due[c]) break;
      heap[i] = c;
      position[c] = i;
      i = child;
    }
    heap[i] = slot;
    position[slot] = i;
  }

  #grow(capacity: number): void {
    if (capacity > MAX_SLOTS) throw new RangeError(`more than ${MAX_SLOTS} deadlines`);
    const old = this.#position.length;
    const due = new Float64Array(capacity), generation = new Uint8Array(capacity), heap = new Int32Array(capacity);
    const position = new Int32Array(capacity).fill(-1), freeSlots = new Int32Array(capacity);
    due.set(this.#due);
    generation.set(this.#generation);
    heap.set(this.#heap);
    position.set(this.#position);
    freeSlots.set(this.#freeSlots);
    [this.#due, this.#generation, this.#heap, this.#position, this.#freeSlots] = [due, generation, heap, position, freeSlots];
    // Lowest slot on top of the free stack.
    for (let slot = capacity - 1; slot >= old; slot--) freeSlots[this.#freeCount++] = slot;
  }
}
