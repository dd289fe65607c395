/**
 * Sweeps the app started in these services: each runs its points on the local pool
 * (runSweepLocal, as `hetmem sweep` does) in the background, with counters the sweep
 * view polls, and stops with the services.
 */
import type { SweepView } from '../../../shared/api.js';
import type { PresetMap } from '../../../sim/config/validate.js';
import { runSweepLocal } from '../sweeps/local.js';
import { planSweep } from '../sweeps/plan.js';
import { storedPoints } from '../sweeps/record.js';
import type { Store } from '../store/store.js';
import type { ConfigIssue } from '../../../sim/config/validate.js';

type Progress = NonNullable<SweepView['progress']>;

export class ActiveSweeps {
  private readonly sweeps = new Map<
    string,
    { name: string; axes: string[]; progress: Progress; controller: AbortController; done: Promise<unknown> }
  >();

  constructor(
    private readonly store: Store,
    private readonly options: { presets: () => PresetMap; baseDir?: string; workers?: number },
  ) {}

  /** Plans the sweep and starts its points not yet stored; a sweep already running here is not started twice. */
  start(
    text: string,
  ): { ok: true; sweepId: string; points: number; already: number } | { ok: false; issues: ConfigIssue[] } {
    const plan = planSweep(text, { presets: this.options.presets(), baseDir: this.options.baseDir });
    if (!plan.ok) return plan;
    const stored = storedPoints(this.store, plan);
    const seen = new Set(stored.keys());
    const todo = plan.points.filter((p) => !seen.has(p.hash) && seen.add(p.hash));
    const result = { ok: true as const, sweepId: plan.id, points: plan.points.length, already: stored.size };
    if (this.sweeps.has(plan.id) || todo.length === 0) return result;
    const controller = new AbortController();
    const progress: Progress = { total: todo.length, done: 0, failed: 0 };
    const done = runSweepLocal(this.store, plan, todo, {
      workers: this.options.workers,
      signal: controller.signal,
      onPoint: ({ outcome }) => (outcome.ok ? progress.done++ : progress.failed++),
    })
      .catch(() => undefined)
      .finally(() => this.sweeps.delete(plan.id));
    this.sweeps.set(plan.id, { name: plan.name, axes: plan.sweep.axes.map((a) => a.path), progress, controller, done });
    return result;
  }

  progress(sweepId: string): Progress | null {
    const s = this.sweeps.get(sweepId);
    return s ? { ...s.progress } : null;
  }

  /** A running sweep before its first point is recorded: its name and axes, no points yet. */
  empty(sweepId: string): SweepView | null {
    const s = this.sweeps.get(sweepId);
    if (!s) return null;
    return {
      id: sweepId,
      name: s.name,
      axes: s.axes,
      metrics: [],
      metric: '',
      unit: '',
      points: [],
      progress: { ...s.progress },
    };
  }

  /** Stops every sweep (the points recorded stay) and waits for them. */
  async stopAll(): Promise<void> {
    const pending = [...this.sweeps.values()];
    for (const s of pending) s.controller.abort();
    await Promise.allSettled(pending.map((s) => s.done));
  }
}
