/**
 * Runs a phase's access streams to completion on the event queue. Events are dispatched
 * through the machine's handler table (events.ts). A context takes one run per step; when
 * its next step would still come before every other pending event, it continues inline
 * instead of going through the heap (the same order, fewer heap operations).
 */
import type { OpError } from '../engine/errno.js';
import { cyclesToPs, HORIZON_PS, HorizonError, type Ps } from '../engine/time.js';
import { DRAM_WAITING } from '../hw/dram-controller.js';
import { DramFrontEnd } from '../hw/dram-front-end.js';
import type { StreamSpec } from '../workload/types.js';
import { AGENT_CPU, AGENT_DEVICE, DRAM_WAIT, IDLE } from './contexts.js';
import { cpuRun } from './cpu-path.js';
import { deviceAccessDone, deviceRun, STOPPED, WAITING } from './device-path.js';
import { EV_DRAM_DONE, EV_RUN } from './events.js';
import type { Machine } from './machine.js';

const PROGRESS_EVERY = 1 << 16;

export class Cancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'Cancelled';
  }
}

/** Called every 65536 steps; returns true to stop the run. */
export type Tick = (t: Ps) => boolean;

/** The outcome of a phase's streams: when the last context ended, and the first error any of them met. */
export interface StreamsOutcome {
  end: Ps;
  error: OpError | null;
}

/** Runs the streams from `t` until every context has ended and no event is left. */
export function runStreams(
  m: Machine,
  streams: readonly StreamSpec[],
  label: string,
  t: Ps,
  tick: Tick,
): StreamsOutcome {
  const ctxs = m.contexts;
  const frontEnds: (DramFrontEnd | null)[] = new Array<DramFrontEnd | null>(ctxs.count).fill(null);
  const cursor = [0, 0];
  // Errors are the phase's: a context that failed in an earlier phase and sits this one out must not fail it.
  ctxs.errors.fill(null);
  for (const s of streams) {
    const front: DramFrontEnd[] = [];
    const agent = s.agent === 'cpu' ? AGENT_CPU : AGENT_DEVICE;
    let first = ctxs.firstOf(agent) + cursor[agent];
    let available = ctxs.sizeOf(agent) - cursor[agent];
    if (s.device !== undefined) {
      const dev = m.devices[s.device];
      first = dev.firstContext;
      available = dev.contexts;
    }
    const n = s.contexts === 0 ? available : Math.min(s.contexts, available);
    if (n <= 0) throw new Error(`phase "${label}" asks for more ${s.agent} contexts than the hardware has`);
    for (let i = 0; i < n; i++) {
      const c = first + i;
      ctxs.streams[c] = s.create(i, n);
      ctxs.holding[c] = 0;
      ctxs.active[c] = 1;
      ctxs.errors[c] = null;
      if (s.target === 'device-dram') {
        // One front end per device for the stream: its contexts share the trace and the queues.
        const dev = m.deviceOf(c);
        frontEnds[c] = front[dev.index] ??= new DramFrontEnd(
          dev.memory,
          dev.dram.spec.tCKNs,
          s.frontEnd ?? { admitPerCycle: 1 },
        );
      }
      m.queue.push(t, EV_RUN, c);
    }
    if (s.device === undefined) cursor[agent] += n;
  }

  let end = t;
  let steps = 0;
  m.handlers[EV_RUN] = (c, _arg, now) => {
    for (;;) {
      if (++steps % PROGRESS_EVERY === 0 && tick(now)) throw new Cancelled();
      const next = step(m, c, now, frontEnds[c]);
      if (next < 0) {
        if (ctxs.active[c] === 0 && now > end) end = now;
        return;
      }
      if (next < m.queue.peekTime()) {
        // Handled as the event it would have been, without the heap.
        m.counters.inlineEvents++;
        now = next;
        continue;
      }
      m.queue.push(next, EV_RUN, c);
      return;
    }
  };
  m.handlers[EV_DRAM_DONE] = (c, _arg, done) => {
    // A context waits for device memory: its run completes at `done` (a trace front end's is admitted).
    const frontEnd = frontEnds[c];
    let next = done;
    if (frontEnd !== null) {
      frontEnd.admitted(done);
      ctxs.charge(c, DRAM_WAIT, done);
    } else next = deviceAccessDone(m, c, done);
    ctxs.holding[c] = 0;
    m.queue.push(next, EV_RUN, c);
  };
  const q = m.queue;
  const handlers = m.handlers;
  while (q.pop()) handlers[q.lastKind](q.lastTarget, q.lastArg, q.lastTime);

  let error: OpError | null = null;
  for (let c = 0; c < ctxs.count && error === null; c++) error = ctxs.errors[c];
  // An open-loop DRAM replay ends when its last request's data is in, not when the trace is read.
  for (let c = 0; c < ctxs.count; c++) {
    const done = frontEnds[c] !== null ? m.deviceOf(c).dram.lastDonePs : 0;
    if (done > end) end = done;
  }
  return { end, error };
}

/** One step of context `c` at `t`: returns when its next step is due, or -1 when it ended or stalled. */
function step(m: Machine, c: number, t: Ps, frontEnd: DramFrontEnd | null): Ps {
  const dramOnly = frontEnd !== null;
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
      ? Math.round(run.notBeforeCycle * m.deviceOf(c).dram.spec.tCKNs * 1000)
      : cyclesToPs(agentIsCpu ? m.cpuClock : m.deviceOf(c).clock, run.notBeforeCycle);
    if (due > HORIZON_PS) throw new HorizonError(due, ctxs.streams[c]!.describeLast?.());
    if (due > t) return due;
  }
  let end: Ps;
  if (frontEnd !== null) {
    // Open loop: the context offers the next entry once this one is admitted, a slot later.
    if (t < frontEnd.nextAdmitPs) return frontEnd.nextAdmitPs;
    const dev = m.deviceOf(c);
    dev.counters.accesses += ((run.offset & 63) + run.bytes + 63) >> 6;
    dev.counters.bytes += run.bytes;
    end = frontEnd.issue(t, c, run.offset % dev.dram.capacityBytes, run.bytes, run.write);
    if (end === DRAM_WAITING) return -1;
    ctxs.charge(c, DRAM_WAIT, end);
  } else {
    end = agentIsCpu ? cpuRun(m, c, t) : deviceRun(m, c, t);
  }
  // Waiting for device memory: EV_DRAM_DONE completes the run.
  if (end === WAITING) return -1;
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

/** Accounts every context of `agent` up to `until` to `category`. */
export function chargeAll(m: Machine, agent: number, category: number, until: Ps): void {
  const ctxs = m.contexts;
  const first = ctxs.firstOf(agent);
  for (let c = first; c < first + ctxs.sizeOf(agent); c++) ctxs.charge(c, category, until);
}
