/**
 * Sweeps through the Api's services (createWorkbench), as the app starts and shows them:
 * on a real SQLite file and a real thread pool; every answer parses with the contract.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REQUESTS, type SweepView } from '../../src/shared/api.js';
import { Store } from '../../src/main/services/store/store.js';
import { tempDir } from '../../src/main/services/store/test-fixtures.js';
import { createWorkbench, type Workbench } from '../../src/main/services/workbench/index.js';

const sweepDoc = (axes: string) => `{
  // a comment, as experiments may carry
  "name": "app sweep",
  "hardware": { "preset": "gpu-pcie4-hbm2" },
  "strategy": { "impl": "hmm-mirror" },
  "workload": { "impl": "stream", "arrayBytes": "1MiB", "iterations": 1 },
  "sweep": { "repetitions": 2, "axes": ${axes} }
}`;
const GOOD = sweepDoc(
  '[{ "path": "hardware.link.lanes", "values": [4, 16] }, { "path": "workload.iterations", "values": [1, 2] }]',
);

describe('sweeps in the services', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let workbench: Workbench;

  beforeEach(() => {
    tmp = tempDir();
    store = Store.open(tmp.file('app.sqlite'));
    workbench = createWorkbench(
      store,
      { databasePath: tmp.file('app.sqlite'), modelVersion: 'test' },
      { sweepWorkers: 2 },
    );
  });
  afterEach(async () => {
    await workbench.stop();
    store.close();
    tmp.remove();
  });

  const finished = async (id: string, metric = ''): Promise<SweepView> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const view = REQUESTS.getSweep.response.parse(await workbench.api.getSweep(id, metric));
      if (view && !view.progress) return view;
      if (Date.now() > deadline) throw new Error('the sweep did not finish in time');
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('starts a sweep, reads it back by its tags against a metric, and runs nothing twice', async () => {
    const started = REQUESTS.startSweep.response.parse(await workbench.api.startSweep(GOOD));
    expect(started).toMatchObject({ ok: true, points: 8, already: 0 });
    if (!started.ok) return;
    const view = await finished(started.sweepId);
    expect(view.name).toBe('app sweep');
    expect(view.axes).toEqual(['hardware.link.lanes', 'workload.iterations']);
    expect(view.metric).toBe('sim.time_ns');
    expect(view.points).toHaveLength(8);
    expect(view.points.every((p) => p.status === 'done' && typeof p.value === 'number')).toBe(true);
    expect(new Set(view.points.map((p) => JSON.stringify([p.values, p.seed]))).size).toBe(8);

    // A person's own `key=value` tag on one run is not an axis.
    store.addTags(view.points[0]!.runId, ['note=odd']);
    const bytes = await finished(started.sweepId, 'link.h2d_bytes');
    expect(bytes.axes).toEqual(view.axes);
    expect(bytes).toMatchObject({ metric: 'link.h2d_bytes', unit: 'bytes' });
    expect(REQUESTS.listSweeps.response.parse(await workbench.api.listSweeps())).toEqual([
      { id: started.sweepId, name: 'app sweep', runs: 8, done: 8, failed: 0 },
    ]);

    const again = await workbench.api.startSweep(GOOD);
    expect(again).toMatchObject({ ok: true, sweepId: started.sweepId, points: 8, already: 8 });
    expect((await finished(started.sweepId)).progress).toBeNull();
    expect(store.listRuns()).toHaveLength(8);
  }, 90_000);

  it('refuses an invalid point with the issue placed in the text, recording nothing', async () => {
    const bad = sweepDoc('[{ "path": "hardware.link.lanes", "values": [4, 3] }]');
    const r = REQUESTS.startSweep.response.parse(await workbench.api.startSweep(bad));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues[0]!.path).toBe('sweep.axes[0]');
    expect(r.issues[0]!.message).toMatch(
      /^at point 2 \(hardware\.link\.lanes=3 repetition 0\): hardware\.link\.lanes: /,
    );
    // Underlined at the axis's object in the text.
    expect(bad.slice(r.issues[0]!.offset)).toMatch(/^\{ "path": "hardware\.link\.lanes", "values": \[4, 3\] \}/);
    expect(store.listRuns()).toEqual([]);
    expect(await workbench.api.getSweep('0123456789ab', '')).toBeNull();
  });
});
