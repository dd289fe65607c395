/**
 * The runner service: validates an experiment, records a run, simulates it in a worker
 * thread with live progress and cancel, and stores the outcome.
 *
 * Every run that begins ends in exactly one of three store calls: finishRun (the whole
 * result, in one transaction), failRun('failed', message) or failRun('cancelled', ...).
 * Invalid input is answered before the store is touched; pass the store as a function
 * (`() => Store.open(path)`) and the database is not even opened, let alone created.
 */
import { Worker } from 'node:worker_threads';
import type { ConfigIssue, PresetMap } from '../../../sim/config/validate.js';
import type { Progress, RunResult, Series } from '../../../sim/result/types.js';
import { MODEL_VERSION } from '../../../sim/result/version.js';
import type { Store } from '../store/store.js';
import { prepareExperiment, type PreparedExperiment } from './prepare.js';
import type { WorkerInput, WorkerMessage } from './protocol.js';
import { workerUrl } from './worker-url.js';

export { prepareExperiment, isSeed, MAX_SEED, type Prepared, type PreparedExperiment } from './prepare.js';
export { parseJsonText, describeJsonSyntaxError, type JsonSyntaxError } from './json-text.js';
export { openTraceFile, type TraceFile } from './trace-file.js';
export { workerUrl } from './worker-url.js';

/** What the runner needs of the store. */
export type RunStore = Pick<Store, 'beginRun' | 'finishRun' | 'failRun' | 'revokeResult'>;

export interface RunOptions {
  /** Replaces the experiment's seed. */
  seed?: number;
  /** Called with the worker's progress, at most every `progressIntervalMs`. */
  onProgress?: (progress: Progress) => void;
  /** Called once the run row exists. */
  onStart?: (runId: number) => void;
  /** Aborting terminates the worker; the run is recorded as cancelled. */
  signal?: AbortSignal;
  /** Folder a relative trace path is resolved against: the experiment file's. Default the cwd. */
  baseDir?: string;
  /** Hardware presets; default the shipped ones (resources/presets/hardware). */
  presets?: PresetMap;
  /** Default 100 ms. */
  progressIntervalMs?: number;
  /**
   * Called with the result's series as recorded so far (link bandwidth each way, device
   * memory in use, faults, ...), at most every `seriesIntervalMs`; only when given.
   */
  onSeries?: (series: Series[], simTimeNs: number) => void;
  /** Default 500 ms. */
  seriesIntervalMs?: number;
}

export type RunOutcome =
  /** Nothing was written. */
  | { status: 'invalid'; issues: ConfigIssue[] }
  | { status: 'done'; runId: number; result: RunResult; wallMs: number }
  | {
      status: 'failed' | 'cancelled';
      runId: number;
      /** As recorded in the run row. */
      error: string;
      /** The worker's stack for an unexpected error (a bug in the model), else null. */
      stack: string | null;
      wallMs: number;
    };

/** Errors the model throws on purpose for a broken workload; anything else is a bug. */
const EXPECTED_ERRORS = new Set(['WorkloadError', 'TraceFormatError', 'ConfigError', 'HorizonError', 'Error']);

export const CANCELLED_ERROR = 'cancelled by the user';

/** The simulation worker's JS heap limit (page state lives in typed arrays, outside it). */
export const WORKER_HEAP_MB = 4096;

export async function runExperiment(
  store: RunStore | (() => RunStore),
  experimentJson: string,
  options: RunOptions = {},
): Promise<RunOutcome> {
  const prepared = prepareExperiment(experimentJson, options);
  if (!prepared.ok) return { status: 'invalid', issues: prepared.issues };
  const target = typeof store === 'function' ? store() : store;
  return runPrepared(target, prepared, options);
}

/** Runs an experiment that prepareExperiment accepted. */
export function runPrepared(
  store: RunStore,
  prepared: PreparedExperiment,
  options: RunOptions = {},
): Promise<RunOutcome> {
  const { experiment } = prepared;
  const started = performance.now();
  const runId = store.beginRun(prepared.json, {
    name: experiment.name,
    seed: experiment.seed,
    modelVersion: MODEL_VERSION,
    strategy: experiment.strategy.impl,
    workload: experiment.workload.impl,
  });
  options.onStart?.(runId);
  const wallMs = () => Math.max(0, performance.now() - started);

  return new Promise<RunOutcome>((resolvePromise, rejectPromise) => {
    let settled = false;
    let cancelRequested = false;
    let worker: Worker | undefined;
    const signal = options.signal;

    const settle = (record: () => RunOutcome) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      try {
        resolvePromise(record());
      } catch (e) {
        rejectPromise(e);
      }
    };
    const fail = (status: 'failed' | 'cancelled', error: string, stack: string | null = null) =>
      settle(() => {
        const ms = wallMs();
        store.failRun(runId, status, error, ms);
        return { status, runId, error, stack, wallMs: ms };
      });
    const finish = (result: RunResult) => {
      if (settled) return;
      settled = true; // the worker's exit, which follows, must not fail the run
      const ms = wallMs();
      try {
        store.finishRun(runId, result, ms);
      } catch (e) {
        // finishRun rolled back: the run is still 'running' with no result rows.
        settled = false;
        const error = `the result could not be stored: ${(e as Error).message}`;
        return fail('failed', error);
      }
      // Storing a large result blocks this thread, so a Ctrl-C that arrived meanwhile is
      // still queued: give the loop two turns (its poll phase delivers signals), and if
      // it cancelled, take the result back so the run ends cancelled after all.
      setImmediate(() =>
        setImmediate(() => {
          settled = false;
          if (cancelRequested) {
            settle(() => {
              store.revokeResult(runId, CANCELLED_ERROR);
              return { status: 'cancelled', runId, error: CANCELLED_ERROR, stack: null, wallMs: ms };
            });
          } else {
            settle(() => ({ status: 'done', runId, result, wallMs: ms }));
          }
        }),
      );
    };
    function onAbort() {
      cancelRequested = true;
      if (worker) void worker.terminate();
      else fail('cancelled', CANCELLED_ERROR);
    }

    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort);

    const input: WorkerInput = {
      experiment,
      tracePath: prepared.tracePath,
      progressIntervalMs: options.progressIntervalMs ?? 100,
      seriesIntervalMs: options.onSeries ? (options.seriesIntervalMs ?? 500) : null,
    };
    try {
      // A heap limit turns a run that outgrows memory into a failed run, not an aborted process.
      worker = new Worker(workerUrl(), {
        workerData: input,
        resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      });
    } catch (e) {
      return fail('failed', `the simulation worker could not start: ${(e as Error).message}`);
    }
    worker.on('message', (m: WorkerMessage) => {
      if (settled || cancelRequested) return;
      if (m.type === 'progress' || m.type === 'series') {
        try {
          if (m.type === 'progress') options.onProgress?.(m.progress);
          else options.onSeries?.(m.series, m.simTimeNs);
        } catch {
          // A broken progress display must not break the run.
        }
      } else if (m.type === 'done') {
        finish(m.result);
      } else if (EXPECTED_ERRORS.has(m.name)) {
        fail('failed', m.message);
      } else {
        fail('failed', `internal error in the simulator: ${m.name}: ${m.message}`, m.stack);
      }
    });
    worker.on('error', (e) => {
      // An error thrown outside the worker's try (e.g. an import that fails to load).
      if (cancelRequested) return;
      if ((e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        fail('failed', `the simulation ran out of memory (its limit is ${WORKER_HEAP_MB} MB); shrink the workload`);
      } else fail('failed', `the simulation worker crashed: ${e.message}`, e.stack ?? null);
    });
    worker.on('exit', (code) => {
      if (cancelRequested) fail('cancelled', CANCELLED_ERROR);
      else fail('failed', `the simulation worker exited (code ${code}) before reporting a result`);
    });
  });
}
