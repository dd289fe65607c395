/**
 * A sweep's points in the store: which are already stored (by point hash and model
 * version), and recording a point's outcome with the sweep's tags in one transaction,
 * so a point is either fully stored or not at all.
 */
import { MODEL_VERSION } from '../../../sim/result/version.js';
import { doneRunsByHash } from '../store/points.js';
import type { Store } from '../store/store.js';
import type { PlannedPoint, SweepPlan } from './plan.js';
import type { PointOutcome } from './protocol.js';

/** `sweep:<id>` and one `<path>=<value>` tag per axis: how the app and `hetmem runs` find a sweep's runs. */
export function pointTags(plan: SweepPlan, point: PlannedPoint): string[] {
  return [`sweep:${plan.id}`, ...plan.sweep.axes.map((a, i) => `${a.path}=${JSON.stringify(point.values[i])}`)];
}

/**
 * Point hash -> id of a finished run of it with this model version (the newest). A run
 * of the same experiment and seed made outside the sweep counts too: it is the same point.
 * Found runs get the sweep's tags.
 */
export function storedPoints(store: Store, plan: SweepPlan): Map<string, number> {
  const wanted = new Map(plan.points.map((p) => [p.hash, p]));
  const found = doneRunsByHash(store, [...wanted.keys()], MODEL_VERSION);
  store.db.transaction(() => {
    for (const [hash, id] of found) store.addTags(id, pointTags(plan, wanted.get(hash) as PlannedPoint));
  })();
  return found;
}

/** Stores one point's outcome as a run (done or failed) with its tags; returns the run id. */
export function recordPoint(store: Store, plan: SweepPlan, point: PlannedPoint, outcome: PointOutcome): number {
  const { experiment, json } = point.prepared;
  return store.db.transaction(() => {
    const runId = store.beginRun(json, {
      name: `${plan.name} [${point.label}]`,
      seed: experiment.seed,
      modelVersion: MODEL_VERSION,
      strategy: experiment.strategy.impl,
      workload: experiment.workload.impl,
    });
    if (outcome.ok) store.finishRun(runId, outcome.result, outcome.wallMs);
    else store.failRun(runId, 'failed', outcome.error, outcome.wallMs);
    store.addTags(runId, pointTags(plan, point));
    return runId;
  })();
}
