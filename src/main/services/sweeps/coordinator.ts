/**
 * Running a sweep's points on `hetmem worker` processes anywhere, through a BullMQ queue
 * on Redis. The coordinator queues every point not yet stored (job id = model version +
 * point hash, so a point is queued once however often the coordinator restarts) and is
 * the store's only writer: it records each result as its job finishes, then removes the
 * job. Redis holds the work in flight, SQLite what is recorded; a restarted coordinator
 * first collects what finished while it was down.
 */
import { QueueEvents, Queue, type Job } from 'bullmq';
import { MODEL_VERSION } from '../../../sim/result/version.js';
import type { Store } from '../store/store.js';
import type { PointRecorded, SweepTally } from './local.js';
import { taskOf } from './local.js';
import type { PlannedPoint, SweepPlan } from './plan.js';
import type { PointOutcome } from './protocol.js';
import { bullConnection, DEFAULT_QUEUE, jobIdOf, REFUSED, type PointJobData } from './queue.js';
import { recordPoint } from './record.js';
import { decodeOutcome } from './wire.js';

/** How often the coordinator checks that the queue still holds its points. */
const LOSS_CHECK_MS = 10_000;

/** Events the queue's stream keeps (BullMQ trims it to about this many). */
const EVENTS_KEPT = 1000;

export interface QueueSweepOptions {
  url: string;
  queueName?: string;
  signal?: AbortSignal;
  onPoint?: (p: PointRecorded) => void;
  /** A worker of another model version refused the point; nothing was stored for it. */
  onRefused?: (point: PlannedPoint, reason: string) => void;
  /** Once the points are on the queue. */
  onQueued?: (info: QueuedInfo) => void;
  /** Redis went away (BullMQ reconnects by itself); called once per outage. */
  onConnectionError?: (e: Error) => void;
  /** The queue came back empty (Redis restarted without its data): the points left were queued again. */
  onRequeued?: (points: number) => void;
  /** How often the finished jobs are looked for besides the queue's events. */
  pollMs?: number;
}

export interface QueuedInfo {
  /** Points added to the queue now. */
  added: number;
  /** Points already on it (queued by an earlier coordinator, maybe running). */
  alreadyQueued: number;
  /** Results collected that finished while no coordinator was running. */
  collected: number;
  /** `hetmem worker` connections on the queue now. */
  workers: number;
}

export interface QueueSweepTally extends SweepTally {
  /** Points refused by workers of another model version. */
  refused: number;
}

export async function runSweepOnQueue(
  store: Store,
  plan: SweepPlan,
  points: readonly PlannedPoint[],
  /** Point hash -> done run (storedPoints); points recorded here are added. */
  stored: Map<string, number>,
  options: QueueSweepOptions,
): Promise<QueueSweepTally> {
  const tally: QueueSweepTally = { done: 0, failed: 0, refused: 0, stopped: false };
  const signal = options.signal;
  const name = options.queueName ?? DEFAULT_QUEUE;
  const connection = bullConnection(options.url);
  // Every point of the plan: a finished job of a point stored meanwhile is only removed.
  const planned = new Map(plan.points.map((p) => [jobIdOf(MODEL_VERSION, p), p]));
  const outstanding = new Map(points.map((p) => [jobIdOf(MODEL_VERSION, p), p]));

  // Each 'completed' event carries the point's result (often a megabyte with its timeline):
  // BullMQ's default of 10000 events would keep about 2000 results in Redis's memory. 1000
  // keep about 200; a coordinator further behind than that still finds the jobs by its scan.
  const queue = new Queue<PointJobData>(name, { connection, streams: { events: { maxLen: EVENTS_KEPT } } });
  const events = new QueueEvents(name, { connection });
  let down = false;
  const onError = (e: Error) => {
    if (!down) options.onConnectionError?.(e);
    down = true;
  };
  queue.on('error', onError);
  events.on('error', onError);

  const record = (point: PlannedPoint, outcome: PointOutcome) => {
    const runId = recordPoint(store, plan, point, outcome);
    if (outcome.ok) {
      stored.set(point.hash, runId);
      tally.done++;
    } else tally.failed++;
    options.onPoint?.({ point, runId, outcome });
  };

  // A job to collect (or Ctrl-C) wakes the loop; `pending` keeps a nudge that came while
  // collecting. A result recorded from its event only wakes it to see whether any is left.
  let wake: () => void = () => {};
  let pending = false;
  let storeError: Error | undefined;
  const nudge = () => {
    pending = true;
    wake();
  };
  const onFailed = ({ jobId }: { jobId: string }) => {
    if (planned.has(jobId)) nudge();
  };
  /** Job removals under way: waited for before closing, so a recorded job never stays behind to be recorded again. */
  const removals = new Set<Promise<void>>();
  // The event carries the result: it is recorded at once, without reading the job back
  // (collect, below, still finds any result whose event was missed).
  const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
    const point = outstanding.get(jobId);
    if (!point) {
      if (planned.has(jobId)) nudge();
      return;
    }
    outstanding.delete(jobId);
    try {
      record(point, readOutcome(returnvalue));
    } catch (e) {
      // The store failed: the loop ends the sweep with this error (the job stays for a rerun).
      storeError ??= e as Error;
      wake();
      return;
    }
    const removal = queue
      .remove(jobId)
      .then(() => undefined, onError)
      .finally(() => removals.delete(removal));
    removals.add(removal);
    wake();
  };
  events.on('completed', onCompleted);
  events.on('failed', onFailed);
  signal?.addEventListener('abort', nudge);

  /** Records the finished jobs of this sweep and removes them; at start-up, failed jobs are only removed (queued again). */
  const collect = async (startup: boolean): Promise<number> => {
    let collected = 0;
    for (const state of ['completed', 'failed'] as const) {
      for (const id of await queue.getRanges([state], 0, -1)) {
        const point = planned.get(id);
        if (!point) continue; // another sweep's job
        const job = (await queue.getJob(id)) as Job<PointJobData> | undefined;
        if (!job) continue;
        if (stored.has(point.hash) && !outstanding.has(id)) {
          await queue.remove(id); // recorded before a crash, removed only now
          continue;
        }
        if (!outstanding.has(id)) continue;
        if (state === 'failed' && startup) {
          await queue.remove(id); // failed or refused under an earlier coordinator: run it again
          continue;
        }
        if (state === 'completed') {
          record(point, readOutcome(job.returnvalue));
        } else if (job.failedReason?.startsWith(REFUSED)) {
          tally.refused++;
          options.onRefused?.(point, job.failedReason);
        } else {
          record(point, { ok: false, error: `the worker failed: ${job.failedReason}`, wallMs: 0 });
        }
        outstanding.delete(id);
        collected++;
        await queue.remove(id);
      }
    }
    return collected;
  };

  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const collected = await collect(true);
    const jobs = () =>
      [...outstanding].map(([jobId, point]) => ({
        name: plan.id,
        data: { modelVersion: MODEL_VERSION, sweepId: plan.id, label: point.label, task: taskOf(point) },
        opts: { jobId, removeOnComplete: false, removeOnFail: false },
      }));
    // addBulk ignores the ids already on the queue.
    const enqueue = async (list: ReturnType<typeof jobs>) => {
      for (let i = 0; i < list.length; i += 500) await queue.addBulk(list.slice(i, i + 500));
    };
    const before = new Set(await queue.getRanges(['wait', 'active', 'delayed', 'prioritized'], 0, -1));
    const first = jobs();
    const alreadyQueued = first.filter((j) => before.has(j.opts.jobId)).length;
    await enqueue(first);
    options.onQueued?.({
      added: first.length - alreadyQueued,
      alreadyQueued,
      collected,
      workers: await queue.getWorkersCount(),
    });
    /** Redis restarted without its data: nothing of the queue is left, so queue what is outstanding again. */
    const requeueIfLost = async () => {
      const held = await queue.getJobCountByTypes('wait', 'active', 'delayed', 'prioritized', 'completed', 'failed');
      if (held > 0 || outstanding.size === 0) return;
      await enqueue(jobs());
      options.onRequeued?.(outstanding.size);
    };
    let lastLossCheck = Date.now();
    const pollMs = options.pollMs ?? 1000;
    while (outstanding.size > 0 && !signal?.aborted) {
      if (!pending) {
        const polled = await new Promise<boolean>((res) => {
          const timer = setTimeout(() => res(true), pollMs);
          wake = () => {
            clearTimeout(timer);
            res(false);
          };
        });
        if (storeError) throw storeError;
        if (!polled && !pending) continue;
      }
      pending = false;
      if (signal?.aborted) break;
      try {
        await collect(false);
        if (Date.now() - lastLossCheck > LOSS_CHECK_MS) {
          lastLossCheck = Date.now();
          await requeueIfLost();
        }
        down = false;
      } catch (e) {
        // Redis away for longer than a command's retries: say so once, and try again at the next poll.
        onError(e as Error);
      }
    }
    if (storeError) throw storeError;
  } finally {
    signal?.removeEventListener('abort', nudge);
    await Promise.allSettled([...removals]);
    await Promise.allSettled([events.close(), queue.close()]);
  }
  tally.stopped = outstanding.size > 0;
  return tally;
}

/** A worker's result; one that cannot be read is recorded as a failed point saying why. */
function readOutcome(returnvalue: unknown): PointOutcome {
  try {
    return decodeOutcome(returnvalue);
  } catch (e) {
    return { ok: false, error: `the worker's result could not be read: ${(e as Error).message}`, wallMs: 0 };
  }
}
