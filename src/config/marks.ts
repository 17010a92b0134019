// Packet marks that must agree between the rules and the code. The TPROXY fwmark's routing rule
// (`ip rule fwmark M/M`) tests only its own bits, so the injection mark shares none with the
// default fwmark (0x1).

/** SO_MARK of every packet a stage injects; the queue rules never queue a packet carrying it. */
export const INJECTION_MARK = 0x40000000;
