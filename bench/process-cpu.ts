import { readFileSync } from 'node:fs';

/** CPU seconds (user + system) from a stat(5) file under /proc (Linux); null elsewhere. */
function statSeconds(path: string): number | null {
  try {
    const fields = readFileSync(path, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** CPU seconds a process has used, all its threads together. */
export function cpuSeconds(pid: number): number | null {
  return statSeconds(`/proc/${pid}/stat`);
}

/** CPU seconds a process's main thread (the event loop) has used. */
export function mainThreadCpuSeconds(pid: number): number | null {
  return statSeconds(`/proc/${pid}/task/${pid}/stat`);
}
