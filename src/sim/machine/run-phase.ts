/**
 * Runs one phase of streams to completion on the event queue. A context takes one run
 * per step; when its next step would still come before every other pending event, it
 * continues inline instead of going through the heap (the same order, fewer heap
 * operations).
 */
import { cyclesToPs, type Ps } from '../engine/time.js';
import type { Phase } from '../workload/types.js';
import { AGENT_CPU, AGENT_DEVICE, DRAM_WAIT, IDLE, MIGRATION } from './contexts.js';
import { cpuRun, STOPPED } from './cpu-path.js';
import { deviceRun } from './device-path.js';
import { EV_BATCH_END, EV_BATCH_START, EV_RUN } from './events.js';
import { Batch, endBatch, startBatch } from './fault-service.js';
import type { Machine } from './machine.js';

const PROGRESS_EVERY = 1 << 16;

export interface PhaseHooks {
  /** Called every 65536 steps; returns true to stop the run. */
  tick(m: Machine, t: Ps): boolean;
}

export class Cancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'Cancelled';
  }
}

export function runStreamsPhase(m: Machine, phase: Phase & { kind: 'streams' }, t0: Ps, hooks: PhaseHooks): Ps {
  const ctxs = m.contexts;
  let t = t0;
  if (phase.streams.some((s) => s.agent === 'device')) {
    m.counters.kernelLaunches++;
    t += m.t.kernelLaunch;
  }
  const launched = t;
  t = m.strategy.beforePhase(m, phase, t);
  // Contexts wait for the launch and then for the strategy's copies (the CPU thread that
  // issues a synchronous copy waits for it too).
  chargeAll(m, AGENT_DEVICE, IDLE, launched);
  chargeAll(m, AGENT_CPU, IDLE, launched);
  chargeAll(m, AGENT_DEVICE, MIGRATION, t);
  chargeAll(m, AGENT_CPU, MIGRATION, t);
  if (m.phaseError !== null) return t;

  const dramOnly = new Uint8Array(ctxs.count);
  const cursor = [0, 0];
  for (const s of phase.streams) {
    const agent = s.agent === 'cpu' ? AGENT_CPU : AGENT_DEVICE;
    const available = ctxs.sizeOf(agent) - cursor[agent];
    const n = s.contexts === 0 ? available : Math.min(s.contexts, available);
    if (n <= 0) throw new Error(`phase "${phase.label}" asks for more ${s.agent} contexts than the hardware has`);
    for (let i = 0; i < n; i++) {
      const c = ctxs.firstOf(agent) + cursor[agent] + i;
      ctxs.streams[c] = s.create(i, n);
      ctxs.holding[c] = 0;
      ctxs.active[c] = 1;
      ctxs.errors[c] = null;
      dramOnly[c] = s.target === 'device-dram' ? 1 : 0;
      m.queue.push(t, EV_RUN, c);
    }
    cursor[agent] += n;
  }

  const q = m.queue;
  const batch = new Batch();
  let end = t;
  let steps = 0;
  while (q.pop()) {
    let now = q.lastTime;
    const kind = q.lastKind;
    if (kind === EV_BATCH_START) {
      startBatch(m, batch, now);
      continue;
    }
    if (kind === EV_BATCH_END) {
      endBatch(m, batch, now);
      continue;
    }
    // EV_RUN: step the context, inline while nothing else is due first.
    const c = q.lastTarget;
    for (;;) {
      if (++steps % PROGRESS_EVERY === 0 && hooks.tick(m, now)) throw new Cancelled();
      const next = step(m, c, now, dramOnly[c] === 1);
      if (next < 0) {
        if (ctxs.active[c] === 0 && now > end) end = now;
        break;
      }
      if (next < q.peekTime()) {
        // Handled as the event it would have been, without the heap.
        m.counters.inlineEvents++;
        now = next;
        continue;
      }
      q.push(next, EV_RUN, c);
      break;
    }
  }

  for (let c = 0; c < ctxs.count; c++) {
    if (ctxs.errors[c] !== null && m.phaseError === null) m.phaseError = ctxs.errors[c];
  }
  const done = m.strategy.afterPhase(m, phase, end);
  chargeAll(m, AGENT_CPU, IDLE, end);
  chargeAll(m, AGENT_DEVICE, IDLE, end);
  chargeAll(m, AGENT_DEVICE, MIGRATION, done);
  chargeAll(m, AGENT_CPU, MIGRATION, done);
  return done;
}

/** One step of context `c` at `t`: returns when its next step is due, or -1 when it ended or stalled. */
function step(m: Machine, c: number, t: Ps, dramOnly: boolean): Ps {
  const ctxs = m.contexts;
  if (ctxs.errors[c] !== null) return finish(m, c, t);
  const run = ctxs.runs[c];
  if (ctxs.holding[c] === 0) {
    if (!ctxs.streams[c]!.next(run)) return finish(m, c, t);
    ctxs.holding[c] = 1;
    m.counters.doneBytes += run.bytes;
  }
  const agentIsCpu = ctxs.agent[c] === AGENT_CPU;
  ctxs.charge(c, IDLE, t);
  if (run.notBeforeCycle >= 0) {
    // A DRAM-level trace (DRAMSim3) counts DRAM clock cycles; other traces the agent's.
    const due = dramOnly
      ? Math.round(run.notBeforeCycle * m.dram.spec.tCKNs * 1000)
      : cyclesToPs(agentIsCpu ? m.cpuClock : m.deviceClock, run.notBeforeCycle);
    if (due > t) return due;
  }
  let end: Ps;
  if (dramOnly) {
    m.counters.deviceAccesses += ((run.offset & 63) + run.bytes + 63) >> 6;
    m.counters.deviceBytes += run.bytes;
    end = m.dram.access(t, run.offset % m.dram.capacityBytes, run.bytes, run.write);
    ctxs.charge(c, DRAM_WAIT, end);
  } else {
    end = agentIsCpu ? cpuRun(m, c, t) : deviceRun(m, c, t);
  }
  if (end === STOPPED) {
    // Stalled on a fault (the batch's replay steps it again) or stopped by an error.
    return ctxs.errors[c] !== null ? finish(m, c, t) : -1;
  }
  ctxs.holding[c] = 0;
  return end;
}

function finish(m: Machine, c: number, t: Ps): number {
  const ctxs = m.contexts;
  ctxs.charge(c, IDLE, t);
  ctxs.active[c] = 0;
  ctxs.streams[c] = null;
  ctxs.holding[c] = 0;
  return -1;
}

function chargeAll(m: Machine, agent: number, category: number, until: Ps): void {
  const ctxs = m.contexts;
  const first = ctxs.firstOf(agent);
  for (let c = first; c < first + ctxs.sizeOf(agent); c++) ctxs.charge(c, category, until);
}
