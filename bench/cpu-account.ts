/**
 * Who used the cores while a configuration ran, for figures on a machine shared with
 * other work: the CPU time of this process's finished children (getrusage's children
 * figures, as /proc/self/stat keeps them once each child is reaped) against the whole
 * machine's busy time (/proc/stat). Linux only; elsewhere the figures are null.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuMark {
  at: number;
  /** Seconds of CPU, all cores, busy (everything but idle and iowait; steal counts as taken). */
  machineS: number | null;
  /** Seconds of CPU used by reaped children of this process, and by the live processes `pids`. */
  childrenS: number | null;
}

let ticksPerSecond: number | undefined;
function hz(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function machineBusyS(): number | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...
    const busy = cpu.slice(0, 8).reduce((a, b) => a + b, 0) - cpu[3] - cpu[4];
    return busy / hz();
  } catch {
    return null;
  }
}

/** Fields of /proc/PID/stat after the ")" that closes the command name (field 3 first). */
function statFields(pid: number | string): number[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
}

function childrenS(pids: readonly number[]): number | null {
  try {
    // cutime and cstime (fields 16, 17): reaped children; utime and stime (14, 15) of each live one.
    const own = statFields('self');
    const live = pids.map((pid) => statFields(pid)).reduce((sum, f) => sum + f[11] + f[12], 0);
    return (own[13] + own[14] + live) / hz();
  } catch {
    return null;
  }
}

/** `pids`: live children to count too (a server that outlives the span), the same at both marks. */
export function cpuMark(pids: readonly number[] = []): CpuMark {
  return { at: performance.now(), machineS: machineBusyS(), childrenS: childrenS(pids) };
}

/** Over the span from `start` to `end`: the cores this bench's children used, and the cores everything else used. */
export function coresUsed(start: CpuMark, end: CpuMark): { ours: number; others: number } | null {
  if (start.machineS === null || end.machineS === null || start.childrenS === null || end.childrenS === null) {
    return null;
  }
  const spanS = (end.at - start.at) / 1000;
  const ours = (end.childrenS - start.childrenS) / spanS;
  return { ours, others: Math.max(0, (end.machineS - start.machineS) / spanS - ours) };
}

/** Resolves once the processes `pids` use under 5% of a core over a quarter second (at most `maxMs`): started and waiting. */
export async function untilIdle(pids: readonly number[], maxMs = 15_000): Promise<void> {
  const deadline = performance.now() + maxMs;
  let last = childrenS(pids);
  while (last !== null && performance.now() < deadline) {
    await new Promise((res) => setTimeout(res, 250));
    const now = childrenS(pids);
    if (now === null || now - last < 0.0125) return;
    last = now;
  }
}

/** CPU seconds of each thread of this process, by thread id (Linux; empty elsewhere). */
export function threadCpuS(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const f = statFields(`self/task/${tid}`);
      out.set(tid, (f[11] + f[12]) / hz());
    }
  } catch {
    out.clear();
  }
  return out;
}
