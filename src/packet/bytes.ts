// Big-endian reads and writes by plain indexing: no bounds checks and no exceptions, which is
// right only after a view's check() has proved the offsets are inside the packet.

export const EMPTY = Buffer.alloc(0);

export function u16(b: Buffer, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function u32(b: Buffer, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

// Assigning to a Uint8Array keeps the low 8 bits, so no masking is needed.
export function put16(b: Buffer, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

export function put32(b: Buffer, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}
