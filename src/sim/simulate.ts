/**
 * The entry point of the model: a validated experiment in, a result out. Pure and
 * deterministic: no clocks, files or network; trace lines come through `traceSource`.
 */
import type { Experiment } from './config/experiment.js';
import { psToNs, type Ps } from './engine/time.js';
import { runHostOp } from './machine/host-ops.js';
import { Machine } from './machine/machine.js';
import { Cancelled, runStreamsPhase } from './machine/run-phase.js';
import { createStrategy } from './mm/strategies/index.js';
import { collectResult } from './result/collect.js';
import type { OpReport, Progress, RunResult, Snapshot } from './result/types.js';
import { buildWorkload } from './workload/index.js';
import type { TraceSource } from './workload/types.js';

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

export function simulate(experiment: Experiment, options: SimulateOptions = {}): RunResult {
  const hw = experiment.hardware;
  const plan = buildWorkload(experiment.workload, {
    seed: experiment.seed,
    cpuContexts: hw.cpu.cores,
    deviceContexts: hw.device.computeUnits * hw.device.contextsPerUnit,
    traceSource: options.traceSource,
  });
  const m = new Machine(experiment, plan, createStrategy(experiment.strategy));
  const scripted = experiment.workload.impl === 'scripted';
  for (const phase of plan.phases) {
    if (phase.kind === 'streams') for (const s of phase.streams) m.counters.plannedBytes += s.plannedBytes;
  }

  let t: Ps = 0;
  for (const r of plan.premapped) {
    const region = m.space.regions[r];
    m.space.map(region);
    t = m.strategy.onMap(m, region, t);
    if (m.phaseError !== null) throw new WorkloadError(m.phaseError);
  }

  let label = '';
  const progress = (now: Ps) => {
    options.onProgress?.({
      fraction: m.counters.plannedBytes > 0 ? Math.min(1, m.counters.doneBytes / m.counters.plannedBytes) : 0,
      simTimeNs: psToNs(now),
      events: m.queue.popped + m.counters.steps,
      phase: label,
    });
    return options.shouldStop?.() ?? false;
  };
  const hooks = { tick: (_m: Machine, now: Ps) => progress(now) };

  const ops: OpReport[] = [];
  const snapshots: Snapshot[] = [];
  plan.phases.forEach((phase, i) => {
    label = phase.label;
    const before = {
      faults: m.counters.devicePageFaults + m.counters.cpuPageFaults,
      h2d: m.link.stats.payloadBytes[0],
      d2h: m.link.stats.payloadBytes[1],
    };
    const start = t;
    m.phaseError = null;
    const index = phase.opIndex ?? i;
    if (phase.kind === 'host') {
      t = runHostOp(m, phase.host, t, (pages) => snapshots.push({ opIndex: index, region: plan.regions[phase.host.region].name, pages }));
    } else {
      t = runStreamsPhase(m, phase, t, hooks);
    }
    const report: OpReport = {
      index,
      op: phase.label,
      startNs: psToNs(start),
      durationNs: psToNs(t - start),
      faults: m.counters.devicePageFaults + m.counters.cpuPageFaults - before.faults,
      h2dBytes: m.link.stats.payloadBytes[0] - before.h2d,
      d2hBytes: m.link.stats.payloadBytes[1] - before.d2h,
    };
    if (m.phaseError !== null) {
      report.error = m.phaseError;
      if (!scripted) throw new WorkloadError(`${phase.label}: ${m.phaseError}`);
    }
    ops.push(report);
    if (progress(t)) throw new Cancelled();
  });
  return collectResult(m, t, ops, snapshots);
}
