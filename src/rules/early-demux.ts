// The proxy's closed connections leave sockets in TIME_WAIT for 60 s under both ends' addresses
// (the client leg under the server's, the server leg under the client's). With early demux on, a
// forwarded packet of a later connection with the same addresses and ports that is not diverted
// (while the proxy drains, after it stops, or excluded) is matched to that socket, and
// ip_forward() drops it: the connection cannot open for up to a minute. The kernel's
// ip-sysctl.rst advises turning early demux off on routers anyway; this one switch covers IPv4
// and IPv6.
import type { Exec } from './exec.js';

export const EARLY_DEMUX = 'net.ipv4.ip_early_demux';

/** Turns early demux off; a warning with the fix when it cannot (/proc/sys read-only, as in
 *  the unit's sandbox, which applies the package's sysctl.d file instead). */
export async function disableEarlyDemux(exec: Exec): Promise<string[]> {
  const now = await exec.query('sysctl', ['-n', EARLY_DEMUX]);
  if (now.code === 0 && now.stdout.trim() === '0') return [];
  try {
    await exec.change('sysctl', ['-q', '-w', `${EARLY_DEMUX}=0`]);
    return [];
  } catch (err) {
    return [`${EARLY_DEMUX} stays on (${(err as Error).message}): connections that reuse the ports of the proxy's closed ones are dropped by the kernel for up to 60 s while it drains or after it stops; set ${EARLY_DEMUX}=0 (sysctl.d)`];
  }
}
