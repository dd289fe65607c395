/**
 * The memory manager of a run: the driver context, the strategy, the CPU fault handler
 * and the fault-service handlers wired into the machine, and the phases run under them.
 * A streams phase is a kernel launch (when devices take part), the strategy's work
 * before it (copies, prefetches), the streams, and the strategy's work after it.
 */
import { isError, OpError, type Outcome } from '../engine/errno.js';
import { nsToPs, type Ps } from '../engine/time.js';
import { AGENT_CPU, AGENT_DEVICE, IDLE, MIGRATION } from '../machine/contexts.js';
import type { Machine } from '../machine/machine.js';
import type { PageView } from '../machine/page-state.js';
import { chargeAll, runStreams, type Tick } from '../machine/run-streams.js';
import { AtsTranslation } from '../machine/ats-translation.js';
import { DevicePageTable } from '../machine/translation.js';
import { TO_HOST, type HostOp, type Phase } from '../workload/types.js';
import { AccessCounters } from '../machine/access-counters.js';
import { EV_ACCESS_COUNTER, EV_HOST_OP } from '../machine/events.js';
import { Driver } from './driver.js';
import type { DriverConfig } from './driver-schema.js';
import { installFaultService } from './fault-service.js';
import { runHostOp } from './host-ops.js';
import type { Strategy } from './strategies/types.js';

/** A phase's end time and its error, if it failed (returned, never left on the machine). */
export interface PhaseOutcome {
  time: Ps;
  error: OpError | null;
}

export class MemoryManager {
  readonly driver: Driver;

  constructor(
    readonly m: Machine,
    readonly strategy: Strategy,
    driverConfig: DriverConfig,
  ) {
    const d: Driver = (this.driver = new Driver(
      m,
      driverConfig,
      strategy.translation === 'iommu',
      (region, page, t, pages) => strategy.onCpuPteChange(d, region, page, t, pages),
      (region, page, write, t) => strategy.onSpecialCpuFault(d, region, page, write, t),
      strategy.placeNewPages ? (region, first, pages, t) => strategy.placeNewPages!(d, region, first, pages, t) : null,
    ));
    m.mm = d;
    m.translation = strategy.translation === 'iommu' ? new AtsTranslation() : new DevicePageTable();
    installFaultService(d, strategy);
    installAccessCounters(d, strategy);
  }

  /** Maps a region before the first phase (generators' regions); returns when done. */
  premap(regionIndex: number, t: Ps): Outcome {
    const region = this.m.space.regions[regionIndex];
    this.m.space.map(region);
    return this.strategy.onMap(this.driver, region, t);
  }

  hostOp(op: HostOp, t: Ps, snapshot: (pages: PageView[]) => void): PhaseOutcome {
    return settle(runHostOp(this.driver, this.strategy, op, t, snapshot), t);
  }

  /**
   * Books the phase's concurrent host operation, if it has one, as an event `afterNs` into
   * the streams (the run drains every event, so it runs before the streams end); the
   * returned record is filled in when it has run.
   */
  private scheduleDuring(phase: Phase & { kind: 'streams' }, t: Ps): During {
    const record: During = { done: t, error: null };
    const during = phase.during;
    if (during === undefined) return record;
    this.m.handlers[EV_HOST_OP] = (_target, _arg, now) => {
      const outcome = runHostOp(this.driver, this.strategy, during.host, now, () => {});
      if (isError(outcome)) record.error = outcome;
      record.done = isError(outcome) ? now : outcome;
    };
    this.m.queue.push(t + nsToPs(during.afterNs), EV_HOST_OP, 0);
    return record;
  }

  streamsPhase(phase: Phase & { kind: 'streams' }, t0: Ps, tick: Tick): PhaseOutcome {
    const m = this.m;
    const d = this.driver;
    let t = t0;
    if (phase.streams.some((s) => s.agent === 'device')) {
      let launched = t;
      for (const dev of m.devices) {
        if (!phase.streams.some((s) => s.agent === 'device' && (s.device === undefined || s.device === dev.index)))
          continue;
        dev.counters.kernelLaunches++;
        launched = Math.max(launched, t + dev.t.kernelLaunch);
      }
      t = launched;
    }
    if (phase.prepare !== undefined) {
      const prepared = runHostOp(d, this.strategy, phase.prepare, t, () => {});
      if (isError(prepared)) return { time: t, error: prepared };
      t = prepared;
    }
    const launched = t;
    const before = this.strategy.beforePhase(d, phase, t);
    // Contexts wait for the launch and then for the strategy's copies (the CPU thread that
    // issues a synchronous copy waits for it too).
    chargeAll(m, AGENT_DEVICE, IDLE, launched);
    chargeAll(m, AGENT_CPU, IDLE, launched);
    if (isError(before)) return { time: t, error: before };
    t = before;
    chargeAll(m, AGENT_DEVICE, MIGRATION, t);
    chargeAll(m, AGENT_CPU, MIGRATION, t);

    const during = this.scheduleDuring(phase, t);
    const streams = runStreams(m, phase.streams, phase.label, t, tick);
    const end = Math.max(streams.end, during.done);
    if (streams.error !== null || during.error !== null) return { time: end, error: streams.error ?? during.error };
    const after = this.strategy.afterPhase(d, phase, end);
    chargeAll(m, AGENT_CPU, IDLE, end);
    chargeAll(m, AGENT_DEVICE, IDLE, end);
    if (isError(after)) return { time: end, error: after };
    chargeAll(m, AGENT_DEVICE, MIGRATION, after);
    chargeAll(m, AGENT_CPU, MIGRATION, after);
    return { time: after, error: null };
  }
}

/** A host operation a streams phase runs while its accesses are under way: when it ended, and its error. */
interface During {
  done: Ps;
  error: OpError | null;
}

function settle(outcome: Outcome, t: Ps): PhaseOutcome {
  return isError(outcome) ? { time: t, error: outcome } : { time: outcome, error: null };
}

/**
 * Wires the strategy's access counters, if it has any: a notification is an event that
 * reaches the driver (its interrupt) and hands each region the chunk overlaps to the strategy.
 */
function installAccessCounters(d: Driver, strategy: Strategy): void {
  const spec = strategy.accessCounters;
  const handler = strategy.onAccessCounter;
  if (spec === undefined || handler === undefined) return;
  const m = d.m;
  const cpu = m.devices.length;
  m.accessCounters = new AccessCounters(spec.chunkPages, spec.threshold, cpu + 1, spec.countsCpu, (agent, chunk, t) =>
    m.queue.push(t, EV_ACCESS_COUNTER, agent, chunk),
  );
  m.handlers[EV_ACCESS_COUNTER] = (agent, chunk, t) => {
    const first = chunk * spec.chunkPages;
    const end = first + spec.chunkPages;
    for (const region of m.space.regions) {
      const lo = Math.max(first, region.basePage);
      const hi = Math.min(end, region.basePage + region.pages);
      if (region.mapped && lo < hi) handler(d, agent === cpu ? TO_HOST : agent, region, lo, hi, t);
    }
  };
}
