// What every view shares: the bytes it looks at, re-pointed per packet without allocating.
import { EMPTY } from './bytes.js';

export class ByteView {
  buf: Buffer = EMPTY;
  off = 0;
  len = 0;

  wrap(buf: Buffer, off = 0, len = buf.length - off): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }
}
