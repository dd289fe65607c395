/**
 * `hetmem worker`: takes sweep points from the BullMQ queue and simulates each on a
 * piscina thread (the local sweep's point task), so the process's event loop stays free
 * to renew the job locks. A worker killed mid-point loses its lock; BullMQ's stalled-job
 * check (run by the other workers) puts the point back on the queue. A job of another
 * model version is refused with an UnrecoverableError (never retried, reported by the
 * coordinator) and the worker stops: results of two model versions never mix.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { hostname } from 'node:os';
import { MODEL_VERSION } from '../../../sim/result/version.js';
import { createPointPool } from './local.js';
import type { PointOutcome } from './protocol.js';
import { bullConnection, DEFAULT_QUEUE, REFUSED, shownUrl, type PointJobData } from './queue.js';
import { encodeOutcome } from './wire.js';

export interface PointWorkerOptions {
  url: string;
  queueName?: string;
  /** Points at a time (pool threads). */
  concurrency: number;
  /** The model version this worker runs; differs from MODEL_VERSION only in tests. */
  modelVersion?: string;
  /** BullMQ's lock duration and stalled-check interval (ms); short only in tests. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** A line for the worker's log (stderr). */
  log: (line: string) => void;
}

export interface PointWorker {
  /** `host:pid`, as refusals and logs name it. */
  name: string;
  /**
   * Stops taking points and waits for those in progress. (To abandon them instead, exit
   * the process: their locks expire and the other workers' stalled check requeues them.)
   */
  stop(): Promise<void>;
  /** Resolves when the worker has stopped: by stop(), or after refusing a job of another model version (with that refusal). */
  stopped: Promise<{ refused?: string }>;
  /** Points being simulated now. */
  running(): number;
}

export function startPointWorker(options: PointWorkerOptions): PointWorker {
  const name = `${hostname()}:${process.pid}`;
  const version = options.modelVersion ?? MODEL_VERSION;
  const pool = createPointPool(options.concurrency);
  let active = 0;
  let refusal: string | undefined;
  let resolveStopped: (v: { refused?: string }) => void = () => {};
  const stopped = new Promise<{ refused?: string }>((res) => (resolveStopped = res));

  const runJob = async (job: Job<PointJobData>): Promise<string> => {
    const data = job.data;
    if (typeof data?.modelVersion !== 'string' || typeof data.task?.experiment !== 'object') {
      throw new UnrecoverableError(`${REFUSED} ${name}: job ${job.id} is not a hetmem sweep point`);
    }
    if (data.modelVersion !== version) {
      const message = `${REFUSED} ${name}: it runs model version ${version} and the point needs ${data.modelVersion}; install the coordinator's hetmem version on ${hostname()}`;
      refusal ??= message;
      void stop();
      throw new UnrecoverableError(message);
    }
    active++;
    options.log(`point ${data.label} (sweep ${data.sweepId}): started`);
    let outcome: PointOutcome;
    try {
      outcome = await pool.run(data.task);
    } catch (e) {
      outcome = { ok: false, error: `the pool thread failed: ${(e as Error).message}`, wallMs: 0 };
    } finally {
      active--;
    }
    const how = outcome.ok ? 'done' : `failed: ${outcome.error}`;
    options.log(`point ${data.label} (sweep ${data.sweepId}): ${how} in ${(outcome.wallMs / 1000).toFixed(2)} s`);
    return encodeOutcome(outcome);
  };

  const worker = new Worker<PointJobData, string>(options.queueName ?? DEFAULT_QUEUE, runJob, {
    connection: bullConnection(options.url),
    concurrency: options.concurrency,
    name,
    ...(options.lockDurationMs ? { lockDuration: options.lockDurationMs } : {}),
    ...(options.stalledIntervalMs ? { stalledInterval: options.stalledIntervalMs } : {}),
  });
  let lastError = '';
  worker.on('error', (e) => {
    // BullMQ reconnects by itself; say so once per distinct error, not on every retry.
    if (e.message !== lastError) options.log(`Redis at ${shownUrl(options.url)}: ${e.message}; retrying`);
    lastError = e.message;
  });

  let stopping: Promise<void> | undefined;
  function stop(): Promise<void> {
    stopping ??= worker
      .close()
      .then(() => pool.destroy())
      .catch(() => undefined)
      .then(() => resolveStopped({ refused: refusal }));
    return stopping;
  }

  return { name, stop, stopped, running: () => active };
}
