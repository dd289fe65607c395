/**
 * The run queue and the live series, on the services behind both transports
 * (createWorkbench) with a real SQLite file and real simulation worker threads: a run
 * started while one runs waits, runs start in order, a queued run can leave the queue,
 * the concurrency is configurable, and a running run streams the model's series.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REQUESTS, runEventSchema, type RunEvent } from '../src/shared/api.js';
import { Store } from '../src/main/services/store/store.js';
import { tempDir } from '../src/main/services/store/test-fixtures.js';
import { createWorkbench, type Workbench } from '../src/main/services/workbench/index.js';

const experiment = (name: string, size = '2MiB', iterations = 1) => `{
  "name": "${name}",
  "hardware": { "preset": "gpu-pcie4-hbm2" },
  "strategy": { "impl": "hmm-mirror" },
  "workload": { "impl": "stream", "arrayBytes": "${size}", "iterations": ${iterations} }
}`;
const LONG = (name: string) => experiment(name, '1GiB', 100);

describe('the run queue', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let workbench: Workbench;
  let events: RunEvent[];

  const open = (concurrency?: number) => {
    const databasePath = tmp.file('hetmem.sqlite');
    store = Store.open(databasePath);
    workbench = createWorkbench(
      store,
      { databasePath, modelVersion: '0.1.0' },
      { progressIntervalMs: 10, seriesIntervalMs: 50, concurrency },
    );
    events = [];
    workbench.events.onRunEvent((e) => events.push(runEventSchema.parse(e) as RunEvent));
  };
  const start = async (text: string) => {
    const r = await workbench.api.startRun(text);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r;
  };
  const waitFor = (what: (e: RunEvent) => boolean, timeout = 60_000) =>
    expect.poll(() => events.some(what), { timeout, interval: 20 }).toBe(true);

  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(async () => {
    await workbench.stop();
    store.close();
    tmp.remove();
  });

  it('queues runs while one runs, starts them in order, one at a time by default', async () => {
    open();
    const first = await start(LONG('first'));
    const second = await start(experiment('second'));
    const third = await start(experiment('third'));
    expect(first.runId).not.toBeNull();
    expect(second).toEqual({ ok: true, queueId: 2, runId: null });
    expect(third).toEqual({ ok: true, queueId: 3, runId: null });
    // Nothing queued is recorded yet.
    expect(store.listRuns().map((r) => r.name)).toEqual(['first']);
    const active = await workbench.api.activeRuns();
    expect(REQUESTS.activeRuns.response.parse(active)).toEqual(active);
    expect(active.map((a) => [a.name, a.state, a.position])).toEqual([
      ['second', 'queued', 1],
      ['third', 'queued', 2],
      ['first', 'running', null],
    ]);
    expect(events.filter((e) => e.type === 'queued')).toEqual([
      { type: 'queued', queueId: 2, name: 'second', position: 1 },
      { type: 'queued', queueId: 3, name: 'third', position: 2 },
    ]);

    expect(await workbench.api.cancelRun(first.runId!)).toBe(true);
    await waitFor((e) => e.type === 'ended' && e.runId === first.runId);
    await waitFor((e) => e.type === 'ended' && e.type === 'ended' && e.runId === first.runId! + 2);
    // Each started after the previous one ended: never two at once.
    const order = events
      .filter((e) => e.type === 'started' || e.type === 'ended')
      .map((e) => `${e.type} ${'name' in e ? e.name : e.runId}`);
    expect(order).toEqual([
      'started first',
      `ended ${first.runId}`,
      'started second',
      `ended ${first.runId! + 1}`,
      'started third',
      `ended ${first.runId! + 2}`,
    ]);
    expect(store.listRuns().map((r) => [r.name, r.status])).toEqual([
      ['first', 'cancelled'],
      ['second', 'done'],
      ['third', 'done'],
    ]);
    expect(await workbench.api.activeRuns()).toEqual([]);
  });

  it('a queued run can leave the queue: nothing is recorded and the next one moves up', async () => {
    open();
    const first = await start(LONG('first'));
    const second = await start(experiment('second'));
    const third = await start(experiment('third'));
    expect(await workbench.api.dequeueRun(second.queueId)).toBe(true);
    expect(events).toContainEqual({ type: 'dequeued', queueId: second.queueId, error: null });
    expect(await workbench.api.dequeueRun(second.queueId)).toBe(false);
    // A running run is cancelled, not dequeued.
    expect(await workbench.api.dequeueRun(first.queueId)).toBe(false);
    const active = await workbench.api.activeRuns();
    expect(active.map((a) => [a.queueId, a.position])).toEqual([
      [third.queueId, 1],
      [first.queueId, null],
    ]);
    await workbench.api.cancelRun(first.runId!);
    await waitFor((e) => e.type === 'started' && e.queueId === third.queueId);
    await waitFor((e) => e.type === 'ended' && e.runId === first.runId! + 1);
    expect(store.listRuns().map((r) => r.name)).toEqual(['first', 'third']);
  });

  it('runs two at once with a concurrency of 2; stop() empties the queue and cancels the rest', async () => {
    open(2);
    const a = await start(LONG('a'));
    const b = await start(LONG('b'));
    const c = await start(LONG('c'));
    expect([a.runId !== null, b.runId !== null, c.runId]).toEqual([true, true, null]);
    expect((await workbench.api.activeRuns()).filter((x) => x.state === 'running').length).toBe(2);
    await workbench.stop();
    expect(events).toContainEqual({ type: 'dequeued', queueId: c.queueId, error: null });
    expect(store.listRuns().map((r) => [r.name, r.status])).toEqual([
      ['a', 'cancelled'],
      ['b', 'cancelled'],
    ]);
  });

  it('streams the model series while a run runs: they have points before it ends', async () => {
    open();
    // Many passes over a small array: link traffic from the first device pass on.
    const run = await start(experiment('live', '16MiB', 1000));
    const h2dFlows = (e: RunEvent) =>
      e.type === 'series' && e.series.some((s) => s.name === 'link.h2d_bandwidth' && s.values.some((v) => v > 0));
    await waitFor(h2dFlows);
    expect(events.some((e) => e.type === 'ended')).toBe(false);
    const last = events.filter(h2dFlows).at(-1) as Extract<RunEvent, { type: 'series' }>;
    expect(last.series.map((s) => s.name)).toEqual(
      expect.arrayContaining(['link.h2d_bandwidth', 'link.d2h_bandwidth', 'device.memory_used', 'device.faults']),
    );
    const h2d = last.series.find((s) => s.name === 'link.h2d_bandwidth')!;
    expect(h2d.values.length * h2d.intervalNs).toBeLessThanOrEqual(last.simTimeNs + h2d.intervalNs);
    // They grow: a later copy covers more simulated time.
    await waitFor((e) => e.type === 'series' && e.simTimeNs > last.simTimeNs);
    // The latest copy is in activeRuns too, for a view opened mid-run.
    const [active] = await workbench.api.activeRuns();
    expect(active!.series?.series.length).toBe(4);
    await workbench.api.cancelRun(run.runId!);
  });

  it('a queued run that the store refuses to record leaves the queue with the error', async () => {
    open();
    const first = await start(LONG('first'));
    const second = await start(experiment('second'));
    // The database turns read-only under the services (another tool locked it, a disk filled).
    store.db.pragma('query_only = ON');
    await workbench.api.cancelRun(first.runId!);
    await waitFor((e) => e.type === 'dequeued' && e.queueId === second.queueId && e.error !== null);
    const dequeued = events.find((e) => e.type === 'dequeued') as { error: string };
    expect(dequeued.error).toMatch(/^the run could not start: /);
    expect(await workbench.api.activeRuns()).toEqual([]);
    store.db.pragma('query_only = OFF');
  });
});
