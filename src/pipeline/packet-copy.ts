// Copies a packet out of an NFQUEUE batch, whose receive area is detached when the batch handler
// returns. Each copy owns an ArrayBuffer of exactly its length: Buffer.from() or allocUnsafe() of
// less than 4 KiB would slice Node's shared 8 KiB pool slab, and one kept packet would keep the
// whole slab alive. Costs one fresh allocation per copy: copy only what a stage keeps.

/** A copy of src[start, start + length) sharing memory with nothing (copy.buffer.byteLength === length). */
export function copyPacket(src: Uint8Array, start: number, length: number): Buffer {
  if (!(Number.isInteger(start) && Number.isInteger(length) && start >= 0 && length >= 0 && start + length <= src.length)) {
    throw new RangeError(`cannot copy ${length} bytes from ${start} of ${src.length}`);
  }
  const copy = Buffer.allocUnsafeSlow(length);
  copy.set(src.subarray(start, start + length));
  return copy;
}
