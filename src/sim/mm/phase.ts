/**
 * The memory manager of a run: the driver context, the strategy, the CPU fault handler
 * and the fault-service handlers wired into the machine, and the phases run under them.
 * A streams phase is a kernel launch (when devices take part), the strategy's work
 * before it (copies, prefetches), the streams, and the strategy's work after it.
 */
import { isError, OpError, type Outcome } from '../engine/errno.js';
import type { Ps } from '../engine/time.js';
import { AGENT_CPU, AGENT_DEVICE, IDLE, MIGRATION } from '../machine/contexts.js';
import type { Machine } from '../machine/machine.js';
import type { PageView } from '../machine/page-state.js';
import { chargeAll, runStreams, type Tick } from '../machine/run-streams.js';
import { AtsTranslation } from '../machine/ats-translation.js';
import { DevicePageTable } from '../machine/translation.js';
import type { HostOp, Phase } from '../workload/types.js';
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
      (region, page, t) => strategy.onCpuPteChange(d, region, page, t),
      (region, page, write, t) => strategy.onSpecialCpuFault(d, region, page, write, t),
    ));
    m.mm = d;
    m.translation = strategy.translation === 'iommu' ? new AtsTranslation() : new DevicePageTable();
    installFaultService(d, strategy);
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

    const streams = runStreams(m, phase.streams, phase.label, t, tick);
    if (streams.error !== null) return { time: streams.end, error: streams.error };
    const after = this.strategy.afterPhase(d, phase, streams.end);
    chargeAll(m, AGENT_CPU, IDLE, streams.end);
    chargeAll(m, AGENT_DEVICE, IDLE, streams.end);
    if (isError(after)) return { time: streams.end, error: after };
    chargeAll(m, AGENT_DEVICE, MIGRATION, after);
    chargeAll(m, AGENT_CPU, MIGRATION, after);
    return { time: after, error: null };
  }
}

function settle(outcome: Outcome, t: Ps): PhaseOutcome {
  return isError(outcome) ? { time: t, error: outcome } : { time: outcome, error: null };
}
