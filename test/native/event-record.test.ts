// Address text in event records (the packet codec's ipv6Text): IPv6 in the shortest canonical
// form (RFC 5952).
import t from 'tap';
import { ipv6Text } from '../../src/packet/ip.js';

/** What the WHATWG URL parser (RFC 5952 compression) makes of an address. */
const canonical = (text: string): string => new URL(`http://[${text}]/`).hostname.slice(1, -1);

t.test('matches the canonical form on random and zero-heavy addresses', async (t) => {
  let seed = 12345;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
  let mismatches = 0;
  for (let n = 0; n < 5000; n++) {
    const b = Buffer.alloc(16);
    // Words are zero half the time, so runs of zeros of every length and place occur.
    for (let w = 0; w < 8; w++) b.writeUInt16BE(rand() % 2 ? 0 : rand() % 3 ? rand() : 1, 2 * w);
    const text = ipv6Text(b, 0);
    if (text !== canonical(text)) mismatches++;
    if (!b.equals(Buffer.from(expand(text), 'hex'))) mismatches++;   // and it reads back to the same bytes
  }
  t.equal(mismatches, 0);
});

t.test('known cases', async (t) => {
  const cases: Array<[string, string]> = [
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['fd546943000200010000000000000002', 'fd54:6943:2:1::2'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['00000000000000000000ffffc6120802', '::ffff:c612:802'],
  ];
  for (const [hex, text] of cases) t.equal(ipv6Text(Buffer.from(hex, 'hex'), 0), text);
});

/** Full 32-digit hex of an IPv6 text. */
function expand(text: string): string {
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  return [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl].map((w) => w.padStart(4, '0')).join('');
}
