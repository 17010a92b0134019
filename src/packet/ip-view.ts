// What the IPv4 and IPv6 views share: where the datagram ends, by the header's own length field.
import { Reason } from './errors.js';
import { ByteView } from './view.js';

export abstract class IpView extends ByteView {
  /** End of the datagram in buf, set by check(): by the header's length, so link padding is left out. */
  end = 0;

  override wrap(buf: Buffer, off = 0, len = buf.length - off): this {
    super.wrap(buf, off, len);
    this.end = off;
    return this;
  }

  /** Validates the header and the datagram length against the bytes present. */
  check(): number {
    const r = this.checkHeader();
    if (r !== 0) return r;
    const total = this.datagramLength();
    if (total > this.len) return Reason.TRUNCATED;
    this.end = this.off + total;
    return this.checkRest();
  }

  /**
   * check() for a packet quoted in an ICMP error: the header must be whole, but the datagram
   * may be cut short, so end is where the quote or the datagram ends, whichever is first.
   */
  checkQuote(): number {
    const r = this.checkHeader();
    if (r !== 0) return r;
    this.end = this.off + Math.min(this.datagramLength(), this.len);
    return this.checkRest();
  }

  protected abstract checkHeader(): number;
  /** The datagram's length as its header states it. */
  protected abstract datagramLength(): number;
  /** What comes after the length check (IPv6: the extension-header walk). */
  protected checkRest(): number {
    return 0;
  }
}
