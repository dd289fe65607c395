/**
 * Runs queued and in progress in this process. A run waits in the queue until fewer than
 * `concurrency` runs are running, and runs start in the order they were queued; each then
 * simulates in its own worker thread (the runner), reports progress with rates and an
 * estimate of the time left, and the series recorded so far. A queued run can be taken
 * out of the queue (nothing is recorded); a running one cancelled (recorded as cancelled).
 *
 * The queue lives in memory: a run is recorded in the store only when it starts, so a
 * process that ends leaves no queued rows behind.
 */
import type { ActiveRun, ProgressEvent, RunEvent, RunEventSource, SeriesEvent } from '../../../shared/api.js';
import { runPrepared, type PreparedExperiment, type RunStore } from '../runner/index.js';

/** Fraction below which a time-left estimate is noise. */
const MIN_FRACTION_FOR_ETA = 0.02;

export interface ActiveRunsOptions {
  progressIntervalMs?: number;
  /** Least wall time between two series events of a run; default 500 ms. */
  seriesIntervalMs?: number;
  /** Runs that may run at once; default 1 (a run has the machine to itself, as `npm run bench` assumes). */
  concurrency?: number;
}

interface Entry {
  queueId: number;
  name: string;
  prepared: PreparedExperiment;
  runId: number | null;
  controller: AbortController | null;
  progress: ProgressEvent | null;
  series: SeriesEvent | null;
  done: Promise<unknown> | null;
}

export class ActiveRuns implements RunEventSource {
  /** By queueId, in the order they were queued (Map keeps insertion order). */
  private readonly entries = new Map<number, Entry>();
  private readonly listeners = new Set<(event: RunEvent) => void>();
  private nextQueueId = 1;
  readonly concurrency: number;

  constructor(
    private readonly store: RunStore,
    private readonly options: ActiveRunsOptions = {},
  ) {
    const c = options.concurrency ?? 1;
    if (!Number.isInteger(c) || c < 1) throw new Error(`concurrency: ${c} is not a number of runs; use 1 or more`);
    this.concurrency = c;
  }

  onRunEvent(listener: (event: RunEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Queues the run and starts it if a slot is free; its run id is known once it starts. */
  start(prepared: PreparedExperiment): { queueId: number; runId: number | null } {
    const entry: Entry = {
      queueId: this.nextQueueId++,
      name: prepared.experiment.name,
      prepared,
      runId: null,
      controller: null,
      progress: null,
      series: null,
      done: null,
    };
    this.entries.set(entry.queueId, entry);
    this.startWaiting(entry);
    if (entry.runId === null) {
      this.emit({ type: 'queued', queueId: entry.queueId, name: entry.name, position: this.queued().length });
    }
    return { queueId: entry.queueId, runId: entry.runId };
  }

  /** Cancels a running run (by run id). */
  cancel(runId: number): boolean {
    const entry = this.running().find((e) => e.runId === runId);
    if (!entry) return false;
    entry.controller!.abort();
    return true;
  }

  /** Takes a waiting run out of the queue. */
  dequeue(queueId: number): boolean {
    const entry = this.entries.get(queueId);
    if (!entry || entry.runId !== null) return false;
    this.entries.delete(queueId);
    this.emit({ type: 'dequeued', queueId, error: null });
    return true;
  }

  list(): ActiveRun[] {
    const queued = this.queued().map((e, i) => this.describe(e, i + 1));
    return [...queued, ...this.running().map((e) => this.describe(e, null))];
  }

  /** Empties the queue, cancels every running run and waits until each is recorded. */
  async stopAll(): Promise<void> {
    for (const e of this.queued()) this.dequeue(e.queueId);
    const running = this.running();
    for (const e of running) e.controller!.abort();
    await Promise.allSettled(running.map((e) => e.done));
  }

  private queued(): Entry[] {
    return [...this.entries.values()].filter((e) => e.runId === null);
  }

  private running(): Entry[] {
    return [...this.entries.values()].filter((e) => e.runId !== null);
  }

  private describe(e: Entry, position: number | null): ActiveRun {
    return {
      queueId: e.queueId,
      state: e.runId === null ? 'queued' : 'running',
      runId: e.runId,
      name: e.name,
      strategy: e.prepared.experiment.strategy.impl,
      workload: e.prepared.experiment.workload.impl,
      position,
      progress: e.progress,
      series: e.series,
    };
  }

  /**
   * Starts queued runs, oldest first, while slots are free. A run that cannot even be
   * recorded (the store refuses the write) leaves the queue with its error; for the run
   * `caller` is starting, the error is thrown to it instead, as a reply to its request.
   */
  private startWaiting(caller?: Entry): void {
    for (const entry of this.queued()) {
      if (this.running().length >= this.concurrency) return;
      try {
        this.launch(entry);
      } catch (e) {
        this.entries.delete(entry.queueId);
        if (entry === caller) throw e;
        this.emit({
          type: 'dequeued',
          queueId: entry.queueId,
          error: `the run could not start: ${(e as Error).message}`,
        });
      }
    }
  }

  private launch(entry: Entry): void {
    const controller = (entry.controller = new AbortController());
    const started = performance.now();
    let runId = 0;
    const done = runPrepared(this.store, entry.prepared, {
      signal: controller.signal,
      progressIntervalMs: this.options.progressIntervalMs,
      seriesIntervalMs: this.options.seriesIntervalMs,
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
        entry.progress = event;
        this.emit(event);
      },
      onSeries: (series, simTimeNs) => {
        const event: SeriesEvent = { type: 'series', runId, simTimeNs, series };
        entry.series = event;
        this.emit(event);
      },
    }).then(
      (outcome) => {
        this.finished(entry);
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
        this.finished(entry);
        this.emit({
          type: 'ended',
          runId,
          status: 'failed',
          error: `the run's end could not be recorded: ${String(error)}`,
        });
      },
    );
    // runPrepared records the run (and calls onStart) before it returns.
    entry.runId = runId;
    entry.done = done;
    this.emit({ type: 'started', runId, queueId: entry.queueId, name: entry.name });
  }

  private finished(entry: Entry): void {
    this.entries.delete(entry.queueId);
    // The next run starts after this one's end is announced (emit runs listeners synchronously).
    queueMicrotask(() => this.startWaiting());
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
