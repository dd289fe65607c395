/**
 * Access counters, after NVIDIA's (Volta and later; nvidia-uvm/uvm_gpu_access_counters.c):
 * hardware counts each agent's accesses to remote memory per chunk of `chunkPages` pages
 * and notifies the driver when a chunk's count reaches `threshold`; the count then
 * restarts. Agents are the devices (0..n-1, their accesses to memory not their own) and
 * the CPU (n, its accesses to device memory: the part of NUMA balancing that notices a
 * task using a remote node). Only remote accesses count, so a run that stays local pays
 * nothing here. Deterministic: counts are exact, in the order accesses complete.
 */
import type { Ps } from '../engine/time.js';

export class AccessCounters {
  private readonly counts = new Map<number, number>();
  notifications = 0;

  constructor(
    readonly chunkPages: number,
    readonly threshold: number,
    /** Number of agents: the devices, then the CPU. */
    private readonly agents: number,
    /** Whether the CPU's accesses count (the agent `agents - 1`). */
    readonly countsCpu: boolean,
    /** Raises the notification for `agent`'s chunk at `t` (the driver services it later). */
    private readonly notify: (agent: number, chunk: number, t: Ps) => void,
  ) {}

  /** `lines` remote cache lines accessed by `agent` in `page`, completed at `t`. */
  count(agent: number, page: number, lines: number, t: Ps): void {
    const chunk = Math.floor(page / this.chunkPages);
    const key = chunk * this.agents + agent;
    const n = (this.counts.get(key) ?? 0) + lines;
    if (n < this.threshold) {
      this.counts.set(key, n);
      return;
    }
    this.counts.delete(key);
    this.notifications++;
    this.notify(agent, chunk, t);
  }
}
