/**
 * Runs in progress in this process: each simulates in its own worker thread (the
 * runner), reports progress as run events with rates and an estimate of the time left,
 * and can be cancelled, which ends it recorded as cancelled.
 */
import type { ActiveRun, ProgressEvent, RunEvent, RunEventSource } from '../../../shared/api.js';
import { runPrepared, type PreparedExperiment, type RunStore } from '../runner/index.js';

/** Fraction below which a time-left estimate is noise. */
const MIN_FRACTION_FOR_ETA = 0.02;

interface Active {
  name: string;
  controller: AbortController;
  progress: ProgressEvent | null;
  done: Promise<unknown>;
}

export class ActiveRuns implements RunEventSource {
  private readonly runs = new Map<number, Active>();
  private readonly listeners = new Set<(event: RunEvent) => void>();

  constructor(
    private readonly store: RunStore,
    private readonly progressIntervalMs = 100,
  ) {}

  onRunEvent(listener: (event: RunEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records the run and starts its worker; returns the run id at once. */
  start(prepared: PreparedExperiment): number {
    const controller = new AbortController();
    const name = prepared.experiment.name;
    const started = performance.now();
    let runId = 0;
    const done = runPrepared(this.store, prepared, {
      signal: controller.signal,
      progressIntervalMs: this.progressIntervalMs,
      onStart: (id) => (runId = id),
      onProgress: (p) => {
        const wallMs = performance.now() - started;
        const event: ProgressEvent = {
          type: 'progress',
          runId,
          fraction: p.fraction,
          simTimeNs: p.simTimeNs,
          events: p.events,
          phase: p.phase,
          wallMs,
          eventsPerSecond: wallMs > 0 ? (p.events * 1000) / wallMs : 0,
          etaMs: p.fraction >= MIN_FRACTION_FOR_ETA ? (wallMs * (1 - p.fraction)) / p.fraction : null,
        };
        const active = this.runs.get(runId);
        if (active) active.progress = event;
        this.emit(event);
      },
    }).then(
      (outcome) => {
        this.runs.delete(runId);
        if (outcome.status === 'invalid') return;
        this.emit({
          type: 'ended',
          runId,
          status: outcome.status,
          error: outcome.status === 'done' ? null : outcome.error,
        });
      },
      (error: unknown) => {
        // The store failed while recording the end; the run stays 'running' until the
        // next open marks it interrupted. Say so rather than leave the UI waiting.
        this.runs.delete(runId);
        this.emit({
          type: 'ended',
          runId,
          status: 'failed',
          error: `the run's end could not be recorded: ${String(error)}`,
        });
      },
    );
    // runPrepared records the run (and calls onStart) before it returns.
    this.runs.set(runId, { name, controller, progress: null, done });
    this.emit({ type: 'started', runId, name });
    return runId;
  }

  cancel(runId: number): boolean {
    const active = this.runs.get(runId);
    if (!active) return false;
    active.controller.abort();
    return true;
  }

  list(): ActiveRun[] {
    return [...this.runs].map(([runId, a]) => ({ runId, name: a.name, progress: a.progress }));
  }

  /** Cancels every run and waits until each is recorded. */
  async stopAll(): Promise<void> {
    const pending = [...this.runs.values()];
    for (const a of pending) a.controller.abort();
    await Promise.allSettled(pending.map((a) => a.done));
  }

  private emit(event: RunEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // One broken subscriber (a closed socket) must not stop the others or the run.
      }
    }
  }
}
