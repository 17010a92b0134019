// Runs every check in the order an operator reads them: routing, netfilter, the legs' TCP, the
// limits, then the running service and its rules.
import { bufferChecks } from './buffer-checks.js';
import { congestionChecks } from './congestion-checks.js';
import type { DoctorSettings } from './doctor-settings.js';
import { exitStatus, fail, type Finding } from './finding.js';
import { limitsChecks } from './limits-checks.js';
import { netfilterChecks } from './netfilter-checks.js';
import { capabilityCheck, findService, rulesChecks } from './service-checks.js';
import { earlyDemuxCheck, forwardingChecks, rpFilterChecks } from './sysctl-checks.js';
import type { DoctorSystem } from './system.js';

export async function runDoctor(sys: DoctorSystem, s: DoctorSettings): Promise<{ findings: Finding[]; status: number }> {
  const pid = findService(sys, s);
  const findings: Finding[] = [
    ...(s.configError === null ? [] : [fail('config', `${s.configError}: the service will not start (the rest is checked with the defaults)`, 'correct the option the message names')]),
    ...forwardingChecks(sys),
    ...rpFilterChecks(sys, s),
    ...earlyDemuxCheck(sys, s),
    ...(await netfilterChecks(sys, s)),
    ...congestionChecks(sys, s),
    ...bufferChecks(sys, s),
    ...limitsChecks(sys, s, pid),
    capabilityCheck(sys, pid),
    ...(await rulesChecks(sys, s, pid)),
  ];
  return { findings, status: exitStatus(findings) };
}
