import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** What the machine looks like; a parameter so tests can vary it. */
export interface HostProbe {
  uid: number | null;
  containerMarkers: string[];
}

/**
 * OPENEXEC_DOCTOR_UID is a test hook (documented as such): it replaces the effective uid in
 * this report only; nothing else reads it, and it never changes what the process may do.
 */
export function probeHost(env: Record<string, string | undefined> = process.env): HostProbe {
  const injected = env['OPENEXEC_DOCTOR_UID']?.trim();
  const uid = injected && /^\d+$/.test(injected) ? Number(injected) : typeof process.getuid === 'function' ? process.getuid() : null;
  return { uid, containerMarkers: containerMarkers() };
}

function containerMarkers(): string[] {
  const found: string[] = [];
  for (const file of ['/.dockerenv', '/run/.containerenv']) if (existsSync(file)) found.push(file);
  try {
    const cgroup = readFileSync('/proc/1/cgroup', 'utf8');
    const m = /docker|kubepods|containerd|libpod|lxc/.exec(cgroup);
    if (m) found.push(`/proc/1/cgroup mentions ${m[0]}`);
  } catch {
    // not Linux, or not readable: no marker
  }
  try {
    const virt = execFileSync('systemd-detect-virt', [], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (virt && virt !== 'none') found.push(`systemd-detect-virt: ${virt}`);
  } catch {
    // absent, or it said "none" (exit 1)
  }
  return found;
}
