/**
 * The services behind both transports (createWorkbench), on a real SQLite file with real
 * simulation worker threads: what they answer must parse with the contract's response
 * schemas, runs must report progress and end recorded as done or cancelled, and
 * validation must place each problem where it is in the text.
 */
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REQUESTS, type RunEvent } from '../src/shared/api.js';
import { Store } from '../src/main/services/store/store.js';
import { experiment, meta, sampleResult, tempDir } from '../src/main/services/store/test-fixtures.js';
import { PHASES_TID, PIDS_PER_RUN, type TraceEvent } from '../src/main/services/workbench/trace.js';
import { createWorkbench, pathSegments, type Workbench } from '../src/main/services/workbench/index.js';

const small = (strategy = 'hmm-mirror', extra = '') => `{
  // a comment, as experiments may carry
  "name": "small ${strategy}",
  "hardware": { "preset": "gpu-pcie4-hbm2" },
  "strategy": { "impl": "${strategy}" },
  "workload": { "impl": "stream", "arrayBytes": "4MiB", "iterations": 1${extra} }
}`;
const LONG = small().replace('"4MiB", "iterations": 1', '"1GiB", "iterations": 100');

describe('createWorkbench', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let workbench: Workbench;
  let events: RunEvent[];
  let done: number;
  let failed: number;

  const ended = (runId: number) =>
    new Promise<RunEvent>((resolve) => {
      const seen = events.find((e) => e.type === 'ended' && e.runId === runId);
      if (seen) return resolve(seen);
      const off = workbench.events.onRunEvent((e) => {
        if (e.type === 'ended' && e.runId === runId) {
          off();
          resolve(e);
        }
      });
    });

  beforeEach(() => {
    tmp = tempDir();
    const databasePath = tmp.file('hetmem.sqlite');
    store = Store.open(databasePath);
    workbench = createWorkbench(store, { databasePath, modelVersion: '0.1.0' }, { progressIntervalMs: 10 });
    events = [];
    workbench.events.onRunEvent((e) => events.push(e));
    done = store.beginRun(experiment('gpu-stream'), meta({ name: 'gpu-stream' }));
    store.finishRun(done, sampleResult(), 1234);
    failed = store.beginRun(experiment('pinned'), meta({ name: 'pinned', strategy: 'explicit-copy' }));
    store.failRun(failed, 'failed', 'SIGBUS: CPU touch of a page pinned to device memory', 12);
  });

  afterEach(async () => {
    await workbench.stop();
    store.close();
    tmp.remove();
  });

  it('lists runs in the contract shape with tags and key metrics, filtered', async () => {
    store.addTags(done, ['baseline']);
    const all = await workbench.api.listRuns();
    expect(REQUESTS.listRuns.response.parse(all)).toEqual(all);
    expect(all.map((r) => [r.id, r.status, r.tags])).toEqual([
      [done, 'done', ['baseline']],
      [failed, 'failed', []],
    ]);
    // sampleResult has link.h2d_bytes (a key metric) and fault.count (not one).
    expect(Object.keys(all[0]!.keyMetrics)).toEqual(['link.h2d_bytes']);
    expect((await workbench.api.listRuns({ status: 'failed' })).map((r) => r.id)).toEqual([failed]);
    expect((await workbench.api.listRuns({ tag: 'baseline' })).map((r) => r.id)).toEqual([done]);
    expect((await workbench.api.listRuns({ strategy: 'explicit-copy' })).map((r) => r.id)).toEqual([failed]);
  });

  it('returns a run with its results, phases and snapshots, and null for no run', async () => {
    const run = await workbench.api.getRun(done);
    expect(REQUESTS.getRun.response.safeParse(run).success).toBe(true);
    expect(run?.metrics['link.h2d_bytes']).toEqual({ value: 1 << 30, unit: 'B' });
    expect(run?.ops.map((o) => o.op)).toEqual(['write', 'read']);
    expect(run?.snapshots[0]?.pages).toEqual(['read', 'device-private', 'none']);
    const bad = await workbench.api.getRun(failed);
    expect(bad).toMatchObject({ status: 'failed', error: expect.stringContaining('SIGBUS'), metrics: {}, ops: [] });
    expect(await workbench.api.getRun(9999)).toBeNull();
  });

  it("gives a run's component timeline apart from the run, null when it recorded none", async () => {
    const timeline = await workbench.api.getTimeline(done);
    expect(REQUESTS.getTimeline.response.parse(timeline)).toEqual(sampleResult().timeline);
    expect('timeline' in (await workbench.api.getRun(done))!).toBe(false);
    expect(await workbench.api.getTimeline(failed)).toBeNull();
    await expect(workbench.api.getTimeline(9999)).rejects.toThrow(/run 9999 does not exist/);
  });

  it('places each problem in the text: a value, an unknown key, a missing field, a syntax error', async () => {
    const text =
      '{\n  "name": "x",\n  "sead": 1,\n  "hardware": { "link": { "impl": "pcie", "lanes": 3 } },\n  "strategy": {}\n}';
    const { issues } = await workbench.api.validateExperiment(text);
    const at = (path: string) => {
      const issue = issues.find((i) => i.path === path);
      expect(issue, path).toBeDefined();
      return text.slice(issue!.offset, issue!.offset + issue!.length);
    };
    expect(at('hardware.link.lanes')).toBe('3');
    expect(at('sead')).toBe('"sead"');
    // strategy.impl is missing: the "strategy" key carries it.
    expect(at('strategy.impl')).toBe('"strategy"');
    expect(issues.find((i) => i.path === 'hardware.link.lanes')?.message).toMatch(/1, 2, 4, 8 or 16/);

    const broken = '{ "name": "x",, }';
    const syntax = (await workbench.api.validateExperiment(broken)).issues;
    expect(syntax).toEqual([
      { path: '', message: expect.stringMatching(/^line 1, column 15: invalid JSON/), offset: 14, length: 1 },
    ]);
    expect((await workbench.api.validateExperiment(small())).issues).toEqual([]);
  });

  it('splits JSON paths into keys and indices', () => {
    expect(pathSegments('workload.ops[3].region')).toEqual(['workload', 'ops', 3, 'region']);
    expect(pathSegments('seed')).toEqual(['seed']);
  });

  it('refuses to start a broken experiment and records nothing', async () => {
    const before = store.listRuns().length;
    const started = await workbench.api.startRun(small().replace('"hmm-mirror"', '"hmm-mirorr"'));
    expect(started).toMatchObject({ ok: false, issues: [{ path: 'strategy.impl' }] });
    expect(store.listRuns().length).toBe(before);
    expect(events).toEqual([]);
  });

  it('runs in a worker thread with progress events and ends done', async () => {
    const started = await workbench.api.startRun(small());
    // Nothing else runs, so it starts at once.
    expect(started).toEqual({ ok: true, queueId: 1, runId: expect.any(Number) });
    if (!started.ok || started.runId === null) return;
    const runId = started.runId;
    expect(await ended(runId)).toEqual({ type: 'ended', runId, status: 'done', error: null });
    const mine = events.filter((e) => 'runId' in e && e.runId === runId);
    expect(mine[0]).toEqual({ type: 'started', runId, queueId: 1, name: 'small hmm-mirror' });
    const progress = mine.filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) expect(REQUESTS.activeRuns.response.element.shape.progress.parse(p)).toEqual(p);
    const run = await workbench.api.getRun(runId);
    expect(run?.status).toBe('done');
    expect(run?.metrics['sim.time_ns']?.value).toBeGreaterThan(0);
    expect(await workbench.api.activeRuns()).toEqual([]);
  });

  it('a database another program holds locked: startRun says so, and nothing is recorded or queued', async () => {
    const holder = new Database(store.path);
    holder.exec('BEGIN EXCLUSIVE');
    const before = store.listRuns().length;
    try {
      await expect(workbench.api.startRun(small())).rejects.toThrow(
        /hetmem\.sqlite is locked: another program is writing to it \(database is locked\); nothing was changed/,
      );
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(await workbench.api.activeRuns()).toEqual([]);
    expect(store.listRuns().length).toBe(before);
    // The next run goes ahead once the lock is gone.
    const started = await workbench.api.startRun(small());
    expect(started).toMatchObject({ ok: true, runId: expect.any(Number) });
    await ended((started as { runId: number }).runId);
  }, 30_000);

  it('cancels a run, which is recorded as cancelled; a running run cannot be deleted', async () => {
    const started = await workbench.api.startRun(LONG);
    if (!started.ok || started.runId === null) throw new Error('did not start');
    const runId = started.runId;
    await expect
      .poll(() => events.some((e) => e.type === 'progress' && e.runId === runId), { timeout: 30_000 })
      .toBe(true);
    const [active] = await workbench.api.activeRuns();
    expect(active).toMatchObject({ runId, state: 'running', name: 'small hmm-mirror', progress: { type: 'progress' } });
    expect(active!.progress!.eventsPerSecond).toBeGreaterThan(0);
    await expect(workbench.api.deleteRuns([runId])).rejects.toThrow(/still running.*cancel it first/);
    expect(await workbench.api.cancelRun(runId)).toBe(true);
    expect(await ended(runId)).toMatchObject({ status: 'cancelled', error: 'cancelled by the user' });
    expect(await workbench.api.cancelRun(runId)).toBe(false);
    expect((await workbench.api.getRun(runId))?.status).toBe('cancelled');
  });

  it('tags, and deletes runs with their results and orphaned experiments', async () => {
    expect(await workbench.api.tagRun(done, { add: ['b', 'a'] })).toEqual(['a', 'b']);
    expect(await workbench.api.tagRun(done, { remove: ['a'] })).toEqual(['b']);
    expect(await workbench.api.deleteRuns([done])).toBe(1);
    expect(await workbench.api.getRun(done)).toBeNull();
    const rows = (table: string) => (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect([rows('metrics'), rows('series'), rows('tags'), rows('experiments')]).toEqual([0, 0, 0, 1]);
    await expect(workbench.api.deleteRuns([9999])).rejects.toThrow(/run 9999 does not exist/);
  });

  it('exports in every format, and imports its own SQLite export into another database', async () => {
    const second = store.beginRun(experiment('gpu-stream', { hardware: { link: { lanes: 8, gen: 4 } } }), meta());
    store.finishRun(second, sampleResult('b'), 10);
    const ids = [done, second];

    const csv = Buffer.from((await workbench.api.exportRuns(ids, 'csv')).base64, 'base64').toString();
    expect(csv.split('\r\n')[0]).toBe('run_id,run_name,strategy,workload,seed,status,metric,value,unit');
    const wide = Buffer.from((await workbench.api.exportRuns(ids, 'csv-wide')).base64, 'base64').toString();
    const [header, row1, row2] = wide.split('\r\n');
    expect(header).toMatch(/^run_id,run_name,strategy,workload,seed,status,hardware\.link\.lanes,/);
    expect(header).toContain('link.h2d_bytes');
    expect(row1).toMatch(new RegExp(`^${done},gpu-stream,.*,16,`));
    expect(row2).toMatch(new RegExp(`^${second},run,.*,8,`));

    const trace = JSON.parse(
      Buffer.from((await workbench.api.exportRuns([done], 'trace')).base64, 'base64').toString(),
    );
    const slices = trace.traceEvents.filter((e: TraceEvent) => e.ph === 'X');
    expect(
      slices
        .filter((e: TraceEvent) => e.tid === PHASES_TID && e.pid === done * PIDS_PER_RUN)
        .map((e: TraceEvent) => e.name),
    ).toEqual(['write', 'read']);
    // The stored component timeline: its link track's intervals, its fault handler's batches.
    const link = sampleResult().timeline!.tracks[0]!;
    expect(slices.filter((e: TraceEvent) => e.name === 'busy').map((e: TraceEvent) => e.ts)).toEqual(
      link.startNs.map((ns) => ns / 1000),
    );
    expect(slices.find((e: TraceEvent) => e.name === 'fault batch').args).toEqual({ faults: 17 });
    expect(
      trace.traceEvents.some((e: { ph: string; name: string }) => e.ph === 'C' && e.name.startsWith('link.h2d_GBps')),
    ).toBe(true);

    const json = JSON.parse(Buffer.from((await workbench.api.exportRuns(ids, 'json')).base64, 'base64').toString());
    expect(json.map((d: { run: { id: number } }) => d.run.id)).toEqual(ids);

    const sqlite = await workbench.api.exportRuns(ids, 'sqlite');
    expect(sqlite.fileName).toMatch(/\.sqlite$/);
    const file = tmp.file('exported.sqlite');
    writeFileSync(file, Buffer.from(sqlite.base64, 'base64'));
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT id FROM runs ORDER BY id').pluck().all()).toEqual(ids);
    db.close();

    const otherPath = tmp.file('other.sqlite');
    const other = Store.open(otherPath);
    const otherBench = createWorkbench(other, { databasePath: otherPath, modelVersion: '0.1.0' });
    expect(await otherBench.api.importDatabase(sqlite)).toEqual({ imported: 2, skipped: 0 });
    expect(await otherBench.api.importDatabase(sqlite)).toEqual({ imported: 0, skipped: 2 });
    await expect(
      otherBench.api.importDatabase({
        fileName: 'notes.txt',
        mediaType: 'text/plain',
        base64: Buffer.from('hello').toString('base64'),
      }),
    ).rejects.toThrow(/notes\.txt/);
    expect(other.listRuns()).toHaveLength(2);
    other.close();
  });

  it('gives many runs’ experiments and metrics at once for comparing, in the order asked', async () => {
    const compared = await workbench.api.compareRuns([failed, done]);
    expect(REQUESTS.compareRuns.response.parse(compared)).toEqual(compared);
    expect(compared.map((r) => r.id)).toEqual([failed, done]);
    expect(compared[1]!.experiment).toMatchObject({ name: 'gpu-stream', hardware: { link: { lanes: 16 } } });
    expect(compared[1]!.metrics['fault.count']).toEqual({ value: 12345, unit: '' });
    expect(compared[1]!.metrics['nan.metric']!.value).toBeNaN();
    expect(compared[0]!.metrics).toEqual({});
    await expect(workbench.api.compareRuns([done, 4242])).rejects.toThrow(/run 4242 does not exist/);
  });

  it('lists the presets and the examples with their text', async () => {
    const presets = await workbench.api.listPresets();
    expect(presets.hardware.map((h) => h.name)).toContain('gpu-pcie4-hbm2');
    const example = presets.examples.find((e) => e.name === 'gpu-stream-hmm-mirror');
    expect(example?.text).toContain('"hmm-mirror"');
    expect((await workbench.api.validateExperiment(example!.text)).issues).toEqual([]);
  });
});
