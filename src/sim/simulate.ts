/**
 * The entry point of the model: a validated experiment in, a result out. Pure and
 * deterministic: no clocks, files or network; trace lines come through `traceSource`.
 */
import type { Experiment } from './config/experiment.js';
import { formatBytes } from './schema/units.js';
import { isError } from './engine/errno.js';
import { checkHorizon, psToNs, type Ps } from './engine/time.js';
import { Machine } from './machine/machine.js';
import { Cancelled, type Tick } from './machine/run-streams.js';
import { MemoryManager } from './mm/phase.js';
import { createStrategy } from './mm/strategies/index.js';
import { phaseAttribution } from './result/attribution.js';
import { collectResult } from './result/collect.js';
import { RunObservers } from './result/observers.js';
import { TimelineRecorder } from './result/timeline.js';
import type { OpReport, Progress, RunResult, Series, Snapshot } from './result/types.js';
import { footprintNote, planFootprint } from './workload/footprint.js';
import { buildWorkload } from './workload/index.js';
import type { TraceSource, WorkloadPlan } from './workload/types.js';

export interface SimulateOptions {
  traceSource?: TraceSource;
  /**
   * Called about every 65536 steps and once per phase. `seriesSoFar` gives the result's
   * series up to now (a copy, costing O(sampling.maxPoints)): call it only when they will
   * be shown.
   */
  onProgress?: (progress: Progress, seriesSoFar: () => Series[]) => void;
  /** Polled with progress; returning true cancels the run (simulate throws `Cancelled`). */
  shouldStop?: () => boolean;
}

/** An error in the workload that makes the whole run meaningless (not a scripted op's expected errno). */
export class WorkloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkloadError';
  }
}

/** Runs an experiment to the end. */
export function simulate(experiment: Experiment, options: SimulateOptions = {}): RunResult {
  const sim = new Simulation(experiment, options);
  while (sim.nextPhase < sim.plan.phases.length) sim.runPhase();
  return sim.finish();
}

/** A run that can be stepped phase by phase, so tests can inspect the machine in between. */
export class Simulation {
  readonly plan: WorkloadPlan;
  readonly machine: Machine;
  readonly mm: MemoryManager;
  nextPhase = 0;
  time: Ps = 0;
  private readonly ops: OpReport[] = [];
  private readonly observers: RunObservers;
  private readonly timeline: TimelineRecorder | null;
  private readonly snapshots: Snapshot[] = [];
  private readonly scripted: boolean;
  private readonly tick: Tick;
  private label = '';

  constructor(
    readonly experiment: Experiment,
    private readonly options: SimulateOptions = {},
  ) {
    const hw = experiment.hardware;
    this.observers = new RunObservers(experiment.sampling.maxPoints);
    this.plan = buildWorkload(experiment.workload, {
      seed: experiment.seed,
      cpuContexts: hw.cpu.cores,
      deviceContexts: hw.devices.reduce((sum, d) => sum + d.computeUnits * d.contextsPerUnit, 0),
      traceSource: options.traceSource,
    });
    const footprint = planFootprint(this.plan);
    if (footprint > hw.cpu.memory.capacityBytes) {
      throw new WorkloadError(
        `the workload maps ${formatBytes(footprint)}${footprintNote(this.plan)}, more than the host's memory (hardware.cpu.memory.capacityBytes = ${formatBytes(hw.cpu.memory.capacityBytes)}); shrink the workload or raise the capacity`,
      );
    }
    const m = (this.machine = new Machine(hw, this.plan.regions, this.plan.files));
    this.mm = new MemoryManager(m, createStrategy(experiment.strategy), hw.driver);
    this.observers.attach(m.hooks);
    const intervals = experiment.sampling.timelineIntervals;
    this.timeline = intervals > 0 ? new TimelineRecorder(m, intervals) : null;
    this.timeline?.attach(m.hooks);
    this.scripted = experiment.workload.impl === 'scripted';
    for (const phase of this.plan.phases) {
      if (phase.kind === 'streams') for (const s of phase.streams) m.counters.plannedBytes += s.plannedBytes;
    }
    const [h2dBefore, d2hBefore] = this.linkBytes();
    for (const r of this.plan.premapped) {
      const done = this.mm.premap(r, this.time);
      if (isError(done)) throw new WorkloadError(done.toString());
      this.time = done;
    }
    if (this.time > 0) {
      // Setup work (allocating and pinning buffers at mmap) is a phase of its own in the report.
      const [h2d, d2h] = this.linkBytes();
      this.ops.push({
        index: -1,
        op: `setup: map ${this.plan.premapped.map((r) => this.plan.regions[r].name).join(', ')}`,
        startNs: 0,
        durationNs: psToNs(this.time),
        faults: this.faults(),
        h2dBytes: h2d - h2dBefore,
        d2hBytes: d2h - d2hBefore,
      });
    }
    this.tick = (now) => this.progress(now);
  }

  private progress(now: Ps): boolean {
    const k = this.machine.counters;
    const trace = this.options.traceSource;
    this.options.onProgress?.(
      {
        fraction: k.plannedBytes > 0 ? Math.min(1, k.doneBytes / k.plannedBytes) : (trace?.fractionRead?.() ?? 0),
        simTimeNs: psToNs(now),
        events: this.machine.queue.popped + k.inlineEvents,
        phase: this.label,
      },
      () => this.observers.seriesSoFar(now),
    );
    return this.options.shouldStop?.() ?? false;
  }

  /** Runs the next phase; returns its report. */
  runPhase(): OpReport {
    const m = this.machine;
    const i = this.nextPhase++;
    const phase = this.plan.phases[i];
    this.label = phase.label;
    const faultsBefore = this.faults();
    const [h2dBefore, d2hBefore] = this.linkBytes();
    const start = this.time;
    const index = phase.opIndex ?? i;
    const attributionBefore = m.contexts.attribution.slice();
    let outcome;
    if (phase.kind === 'host') {
      const host = phase.host;
      outcome = this.mm.hostOp(host, start, (pages) => {
        const region = 'region' in host ? this.plan.regions[host.region].name : '';
        this.snapshots.push({ opIndex: index, region, pages });
      });
    } else {
      outcome = this.mm.streamsPhase(phase, start, this.tick);
    }
    this.time = checkHorizon(outcome.time);
    const [h2dAfter, d2hAfter] = this.linkBytes();
    const report: OpReport = {
      index,
      op: phase.label,
      startNs: psToNs(start),
      durationNs: psToNs(this.time - start),
      faults: this.faults() - faultsBefore,
      h2dBytes: h2dAfter - h2dBefore,
      d2hBytes: d2hAfter - d2hBefore,
    };
    const attribution = phaseAttribution(m, attributionBefore);
    if (attribution.length > 0) report.attribution = attribution;
    // A device is active for the whole of a phase it works in: the time its bandwidth is measured over.
    for (const dev of m.devices) {
      if (attribution.some((a) => a.agent === dev.name)) dev.counters.activePs += this.time - start;
    }
    const error = outcome.error;
    if (error !== null) {
      report.error = error.toString();
      if (!this.scripted) throw new WorkloadError(`${phase.label}: ${error.toString()}`);
    }
    if (this.scripted) {
      report.expected = phase.expectError ?? 'ok';
      report.unexpected = (error === null ? 'ok' : error.errno) !== report.expected;
      if (report.unexpected) m.counters.unexpectedOutcomes++;
    }
    this.ops.push(report);
    if (this.progress(this.time)) throw new Cancelled();
    return report;
  }

  private faults(): number {
    const m = this.machine;
    return m.devices.reduce((sum, d) => sum + d.counters.pageFaults, m.counters.cpuPageFaults);
  }

  /** Payload bytes each way over every device's own link. */
  private linkBytes(): [number, number] {
    let h2d = 0;
    let d2h = 0;
    for (const d of this.machine.devices) {
      h2d += d.link.stats.payloadBytes[0];
      d2h += d.link.stats.payloadBytes[1];
    }
    return [h2d, d2h];
  }

  finish(): RunResult {
    const result = collectResult(
      this.machine,
      {
        name: this.experiment.name,
        strategy: this.experiment.strategy.impl,
        workload: this.experiment.workload.impl,
        seed: this.experiment.seed,
      },
      this.observers,
      this.time,
      this.ops,
      this.snapshots,
    );
    if (this.timeline) result.timeline = this.timeline.finish();
    return result;
  }
}
