/**
 * The entry point of the model: a validated experiment in, a result out. Pure and
 * deterministic: no clocks, files or network; trace lines come through `traceSource`.
 */
import type { Experiment } from './config/experiment.js';
import { formatBytes } from './config/units.js';
import { checkHorizon, psToNs, type Ps } from './engine/time.js';
import { runHostOp } from './machine/host-ops.js';
import { Machine } from './machine/machine.js';
import { Cancelled, runStreamsPhase, type PhaseHooks } from './machine/run-phase.js';
import { createStrategy } from './mm/strategies/index.js';
import { collectResult } from './result/collect.js';
import { RunObservers } from './result/observers.js';
import type { OpReport, Progress, RunResult, Snapshot } from './result/types.js';
import { buildWorkload } from './workload/index.js';
import type { TraceSource, WorkloadPlan } from './workload/types.js';

export interface SimulateOptions {
  traceSource?: TraceSource;
  /** Called about every 65536 steps and once per phase. */
  onProgress?: (progress: Progress) => void;
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
  nextPhase = 0;
  time: Ps = 0;
  private readonly ops: OpReport[] = [];
  private readonly observers: RunObservers;
  private readonly snapshots: Snapshot[] = [];
  private readonly scripted: boolean;
  private readonly hooks: PhaseHooks;
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
      deviceContexts: hw.device.computeUnits * hw.device.contextsPerUnit,
      traceSource: options.traceSource,
    });
    const footprint = this.plan.regions.reduce((sum, r) => sum + r.sizeBytes, 0);
    if (footprint > hw.cpu.memory.capacityBytes) {
      throw new WorkloadError(
        `the workload maps ${formatBytes(footprint)}, more than the host's memory (hardware.cpu.memory.capacityBytes = ${formatBytes(hw.cpu.memory.capacityBytes)}); shrink the workload or raise the capacity`,
      );
    }
    const m = (this.machine = new Machine(experiment, this.plan, createStrategy(experiment.strategy)));
    this.observers.attach(m.hooks);
    this.scripted = experiment.workload.impl === 'scripted';
    for (const phase of this.plan.phases) {
      if (phase.kind === 'streams') for (const s of phase.streams) m.counters.plannedBytes += s.plannedBytes;
    }
    for (const r of this.plan.premapped) {
      const region = m.space.regions[r];
      m.space.map(region);
      this.time = m.strategy.onMap(m, region, this.time);
      if (m.phaseError !== null) throw new WorkloadError(m.phaseError);
    }
    this.hooks = { tick: (_m, now) => this.progress(now) };
  }

  private progress(now: Ps): boolean {
    const k = this.machine.counters;
    const trace = this.options.traceSource;
    this.options.onProgress?.({
      fraction: k.plannedBytes > 0 ? Math.min(1, k.doneBytes / k.plannedBytes) : (trace?.fractionRead?.() ?? 0),
      simTimeNs: psToNs(now),
      events: this.machine.queue.popped + k.inlineEvents,
      phase: this.label,
    });
    return this.options.shouldStop?.() ?? false;
  }

  /** Runs the next phase; returns its report. */
  runPhase(): OpReport {
    const m = this.machine;
    const i = this.nextPhase++;
    const phase = this.plan.phases[i];
    this.label = phase.label;
    const link = m.link.stats;
    const faultsBefore = m.counters.devicePageFaults + m.counters.cpuPageFaults;
    const h2dBefore = link.payloadBytes[0];
    const d2hBefore = link.payloadBytes[1];
    const start = this.time;
    const index = phase.opIndex ?? i;
    m.phaseError = null;
    if (phase.kind === 'host') {
      const region = this.plan.regions[phase.host.region].name;
      this.time = runHostOp(m, phase.host, start, (pages) => this.snapshots.push({ opIndex: index, region, pages }));
    } else {
      this.time = runStreamsPhase(m, phase, start, this.hooks);
    }
    checkHorizon(this.time);
    const report: OpReport = {
      index,
      op: phase.label,
      startNs: psToNs(start),
      durationNs: psToNs(this.time - start),
      faults: m.counters.devicePageFaults + m.counters.cpuPageFaults - faultsBefore,
      h2dBytes: link.payloadBytes[0] - h2dBefore,
      d2hBytes: link.payloadBytes[1] - d2hBefore,
    };
    // Read once: the phase functions above set it (TypeScript cannot see that).
    const error = m.phaseError as string | null;
    if (error !== null) {
      report.error = error;
      if (!this.scripted) throw new WorkloadError(`${phase.label}: ${error}`);
    }
    if (this.scripted) {
      report.expected = phase.expectError ?? 'ok';
      const outcome = error === null ? 'ok' : error.split(':')[0];
      report.unexpected = outcome !== report.expected;
      if (report.unexpected) m.counters.unexpectedOutcomes++;
    }
    this.ops.push(report);
    if (this.progress(this.time)) throw new Cancelled();
    return report;
  }

  finish(): RunResult {
    return collectResult(this.machine, this.observers, this.time, this.ops, this.snapshots);
  }
}
