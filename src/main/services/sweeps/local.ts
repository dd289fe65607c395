/**
 * Running a sweep's points on this machine's cores: a piscina pool of worker threads, one
 * point per task. The store has one writer, this thread: each result is recorded as it
 * arrives. A failing point is recorded as failed and the others go on; aborting stops
 * the pool at once, and points not yet recorded are simply not stored (a rerun runs them).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { workerUrl } from '../runner/worker-url.js';
import type { Store } from '../store/store.js';
import type { PlannedPoint, SweepPlan } from './plan.js';
import type { PointOutcome, PointTask } from './protocol.js';
import { recordPoint } from './record.js';

export interface PointRecorded {
  point: PlannedPoint;
  runId: number;
  outcome: PointOutcome;
}

export interface LocalSweepOptions {
  /** Pool threads; default the machine's cores. */
  workers?: number;
  /**
   * A pool started earlier (createPointPool), so its threads loaded the model while the
   * caller planned; the sweep takes it over and destroys it. Default: a new one of `workers`.
   */
  pool?: Piscina<PointTask, PointOutcome>;
  signal?: AbortSignal;
  onPoint?: (p: PointRecorded) => void;
}

export interface SweepTally {
  done: number;
  failed: number;
  /** True when the signal stopped the sweep before every point was recorded. */
  stopped: boolean;
}

/**
 * The compiled point-task.js, found from the runner's compiled worker (a thread cannot
 * run the .ts source): beside it in the app's bundle (out/main), in ../sweeps under dist/.
 */
export function pointTaskUrl(): URL {
  const bundled = new URL('./point-task.js', workerUrl());
  return existsSync(fileURLToPath(bundled)) ? bundled : new URL('../sweeps/point-task.js', workerUrl());
}

export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * Up to `threads` threads, `startNow` of them started at once (each takes about 0.3 s to
 * load the model); the others start as points are handed out.
 */
export function createPointPool(threads: number, startNow = threads): Piscina<PointTask, PointOutcome> {
  return new Piscina<PointTask, PointOutcome>({
    filename: pointTaskUrl().href,
    minThreads: Math.min(startNow, threads),
    maxThreads: threads,
    // Tasks queue in the pool; one point per thread at a time.
    concurrentTasksPerWorker: 1,
    idleTimeout: 60_000,
    execArgv: loadTaskAsynchronously(),
  });
}

/**
 * Piscina loads the task module with require() first; on Node 20.19+ that is require(esm),
 * and a thread terminated while require(esm) instantiates the module aborts the whole
 * process (FATAL ERROR: v8::Module::IsGraphAsync ... on an instantiated module). A sweep
 * that fails its plan destroys the pool while its first thread loads, so with require(esm)
 * off piscina falls back to import(), which a termination stops cleanly.
 */
function loadTaskAsynchronously(): string[] {
  const flag = '--no-experimental-require-module';
  return process.allowedNodeEnvironmentFlags.has(flag) ? [flag] : [];
}

export function taskOf(point: PlannedPoint): PointTask {
  return { experiment: point.prepared.experiment, tracePath: point.prepared.tracePath };
}

export async function runSweepLocal(
  store: Store,
  plan: SweepPlan,
  points: readonly PlannedPoint[],
  options: LocalSweepOptions = {},
): Promise<SweepTally> {
  const tally: SweepTally = { done: 0, failed: 0, stopped: false };
  const signal = options.signal;
  if (points.length === 0 || signal?.aborted) {
    await options.pool?.destroy();
    return { ...tally, stopped: !!signal?.aborted && points.length > 0 };
  }
  const pool =
    options.pool ?? createPointPool(Math.max(1, Math.min(options.workers ?? defaultWorkers(), points.length)));
  // One listener for the whole pool (not one per task): destroying it ends the running
  // threads and rejects every queued task.
  const stop = () => void pool.destroy();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    await Promise.all(
      points.map(async (point) => {
        let outcome: PointOutcome;
        try {
          outcome = await pool.run(taskOf(point));
        } catch (e) {
          if (signal?.aborted) return; // stopped: nothing recorded for this point
          outcome = { ok: false, error: `the pool thread failed: ${(e as Error).message}`, wallMs: 0 };
        }
        // A point that finished is recorded even if the stop came meanwhile: its result is whole.
        const runId = recordPoint(store, plan, point, outcome);
        if (outcome.ok) tally.done++;
        else tally.failed++;
        options.onPoint?.({ point, runId, outcome });
      }),
    );
  } finally {
    signal?.removeEventListener('abort', stop);
    if (!signal?.aborted) await pool.destroy();
  }
  tally.stopped = !!signal?.aborted && tally.done + tally.failed < points.length;
  return tally;
}
