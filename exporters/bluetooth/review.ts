/** Pure: what a bluetooth instance's samples say for the status page. */
import type { Finding, Review, Sample } from '../../collector/contract.js';
import { humanDuration, of, valueOf } from '../../collector/samples.js';
import { M } from './metrics.js';

export function reviewBluetooth(samples: readonly Sample[], now: number): Review {
  const findings: Finding[] = [];
  const scannerName = new Map(of(samples, M.scannerInfo).map((s) => [s.labels?.scanner ?? '', s.labels?.name || s.labels?.scanner || '']));
  const deviceName = new Map(of(samples, M.deviceInfo).map((s) => [s.labels?.address ?? '', s.labels?.name || s.labels?.address || '']));
  const present = of(samples, M.scannerPresent);
  for (const p of present) {
    const scanner = { scanner: p.labels?.scanner ?? '' };
    const subject = `scanner ${scannerName.get(scanner.scanner) || scanner.scanner}`;
    if (p.value === 0) {
      findings.push({ severity: 'warning', subject, problem: 'is gone (no longer registered)' });
      continue;
    }
    if (valueOf(samples, M.powered, scanner) === 0) findings.push({ severity: 'warning', subject, problem: 'adapter powered off' });
    else if (valueOf(samples, M.scanRequested, scanner) === 1 && valueOf(samples, M.scanning, scanner) === 0) {
      findings.push({ severity: 'warning', subject, problem: 'asked to scan, not scanning' });
    }
    const slots = valueOf(samples, M.slots, scanner);
    if (slots !== undefined && slots > 0 && valueOf(samples, M.slotsFree, scanner) === 0) {
      findings.push({ severity: 'warning', subject, problem: `all ${slots} connection slots taken` });
    }
  }
  for (const t of of(samples, M.silentThreshold)) {
    const address = t.labels?.address ?? '';
    const seen = valueOf(samples, M.lastSeen, { address });
    const since = seen === undefined ? valueOf(samples, M.listeningSince) : seen;
    if (since === undefined || now - since * 1000 <= t.value * 1000) continue;
    findings.push({
      severity: 'warning',
      subject: `device ${deviceName.get(address) || address}`,
      problem: seen === undefined ? `not heard since HomeStation started listening (${humanDuration(now - since * 1000)})` : `silent for ${humanDuration(now - seen * 1000)}`,
      since: since * 1000,
    });
  }
  const devices = of(samples, M.devicePresent);
  return {
    findings,
    fine: `${present.filter((p) => p.value === 1).length} scanners, ${devices.filter((d) => d.value === 1).length} of ${devices.length} devices present`,
  };
}
