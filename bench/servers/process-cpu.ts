import { readFileSync } from 'node:fs';

/** /proc reports CPU time in clock ticks (USER_HZ, 100 on Linux). */
const TICK_US = 1_000_000 / 100;

/**
 * The CPU time (user + system, microseconds) process `pid` has used so far,
 * from /proc; NaN where there is no /proc or the process is gone. On a shared
 * machine the CPU a server spends per request moves far less than the
 * requests it gets through per second. (Under taskset, the pid is node's:
 * taskset execs it.)
 */
export function processCpuUs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return Number.NaN;
  }
}
