// The peak RSS of the calling process, in MB, for the benches.
import { readFileSync } from 'node:fs';

/**
 * VmHWM from /proc (Linux); elsewhere resourceUsage().maxRSS. Not maxRSS on Linux: a child process
 * inherits its parent's peak at fork (Linux keeps ru_maxrss across fork and exec), so a measured child
 * reported the bench parent's 334 MB instead of its own.
 */
export function peakRssMb() {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (kb) return Math.round(Number(kb[1]) / 1024);
  } catch {
    // not Linux: fall through
  }
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
