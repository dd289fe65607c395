import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { experimentHash } from './canonical.js';
import { encodeTimeline } from './result-rows.js';
import { INTERRUPTED_ERROR, Store } from './store.js';
import { experiment, meta, sampleResult, tempDir } from './test-fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let store: Store;
let path: string;
beforeEach(() => {
  tmp = tempDir();
  path = tmp.file('hetmem.sqlite');
  store = Store.open(path, { now: () => new Date('2025-01-02T03:04:05.678Z') });
});
afterEach(() => {
  store.close();
  tmp.remove();
});

/** A pid that no process holds: one of a child that has exited and been reaped. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('Store runs', () => {
  it('beginRun records a running run and its experiment', () => {
    const id = store.beginRun(experiment(), meta({ name: 'first' }));
    const run = store.getRun(id);
    expect(run).toMatchObject({
      id,
      name: 'first',
      status: 'running',
      seed: 7,
      modelVersion: '0.1.0',
      strategy: 'hmm-mirror',
      workload: 'stream',
      experimentName: 'gpu-stream',
      experimentHash: experimentHash(experiment()),
      startedAt: '2025-01-02T03:04:05.678Z',
      endedAt: null,
      wallMs: null,
      error: null,
      pid: process.pid,
      tags: [],
      result: null,
    });
    expect(run.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.experimentJson).toBe('{"hardware":{"link":{"gen":4,"lanes":16}},"name":"gpu-stream","seed":7}');
  });

  it('finishRun stores the whole result, and getRun returns it exactly', () => {
    const id = store.beginRun(experiment(), meta());
    const result = sampleResult();
    store.finishRun(id, result, 42.5);
    const run = store.getRun(id);
    expect(run.status).toBe('done');
    expect(run.wallMs).toBe(42.5);
    expect(run.endedAt).toBe('2025-01-02T03:04:05.678Z');
    expect(run.result).toEqual(result);
    // Same key order too, so JSON of a stored result equals JSON of the original.
    expect(JSON.stringify(run.result)).toBe(JSON.stringify(result));
    expect(Object.is(run.result!.series[0].values[2], -0)).toBe(true);
  });

  it('finishRun stores a timeline sent as its tracks JSON text exactly as the tracks themselves', () => {
    const result = sampleResult();
    const plain = store.beginRun(experiment(), meta());
    store.finishRun(plain, result, 1);
    const encoded = store.beginRun(experiment(), meta());
    store.finishRun(encoded, { ...result, timeline: encodeTimeline(result.timeline!) }, 1);
    expect(store.getRun(encoded).result).toEqual(result);
    const stored = (id: number) =>
      store.db.prepare('SELECT max_intervals, tracks_json FROM timelines WHERE run_id = ?').get(id);
    expect(stored(encoded)).toEqual(stored(plain));
  });

  it('finishRun takes seed, model version, strategy and workload from the result', () => {
    const id = store.beginRun(experiment(), meta({ strategy: 'planned' }));
    store.finishRun(id, { ...sampleResult(), strategy: 'gmem', seed: 9 }, 1);
    expect(store.getRun(id)).toMatchObject({ strategy: 'gmem', seed: 9 });
  });

  it('deduplicates experiments by canonical hash', () => {
    const a = store.beginRun('{"name":"x","seed":1,"hw":{"a":1,"b":2}}', meta());
    const b = store.beginRun('{ "hw": { "b": 2, "a": 1 }, "seed": 1, "name": "x" }', meta());
    const c = store.beginRun('{"name":"x","seed":2}', meta());
    const [ra, rb, rc] = [a, b, c].map((id) => store.getRun(id));
    expect(ra.experimentId).toBe(rb.experimentId);
    expect(rc.experimentId).not.toBe(ra.experimentId);
    expect(store.db.prepare('SELECT count(*) FROM experiments').pluck().get()).toBe(2);
  });

  it('a result that cannot be stored leaves no rows and the run still running', () => {
    const id = store.beginRun(experiment(), meta());
    const bad = sampleResult();
    bad.attribution.push({ ...bad.attribution[0] }); // same agent twice: primary key clash
    expect(() => store.finishRun(id, bad, 1)).toThrow(
      /run \d+: the result could not be stored in .*hetmem\.sqlite: UNIQUE constraint failed/,
    );
    expect(store.getRun(id).status).toBe('running');
    for (const t of ['metrics', 'series', 'histograms', 'attribution', 'results_extra']) {
      expect(store.db.prepare(`SELECT count(*) FROM ${t}`).pluck().get(), t).toBe(0);
    }
  });

  it('failRun records failures and cancels; an ended run cannot be ended again', () => {
    const f = store.beginRun(experiment(), meta());
    const c = store.beginRun(experiment(), meta());
    store.failRun(f, 'failed', 'SIGBUS: CPU touch of a pinned page', 3);
    store.failRun(c, 'cancelled', 'cancelled by the user', 4);
    expect(store.getRun(f)).toMatchObject({
      status: 'failed',
      error: 'SIGBUS: CPU touch of a pinned page',
      wallMs: 3,
      result: null,
    });
    expect(store.getRun(c)).toMatchObject({ status: 'cancelled', error: 'cancelled by the user' });
    expect(() => store.finishRun(f, sampleResult(), 1)).toThrow(
      `run ${f} in ${path} is already failed; only a running run can be finished`,
    );
    expect(() => store.failRun(c, 'failed', 'x', 1)).toThrow(/is already cancelled/);
    expect(() => store.failRun(c, 'done' as 'failed', 'x', 1)).toThrow(/use 'failed' or 'cancelled'/);
  });

  it('names the run, the file and how to list runs when a run does not exist', () => {
    expect(() => store.getRun(7)).toThrow(
      `run 7 does not exist in ${path}; \`hetmem runs --db ${path}\` lists the runs`,
    );
    expect(() => store.finishRun(7, sampleResult(), 1)).toThrow(/run 7 does not exist/);
    expect(() => store.requireRuns([7, 9])).toThrow(/^runs 7, 9 do not exist in /);
  });

  it('checks meta, wall time and the experiment text', () => {
    expect(() => store.beginRun(experiment(), meta({ seed: 1.5 }))).toThrow(
      'meta.seed: 1.5 is not a seed; use a whole number from 0 to 4294967295',
    );
    expect(() => store.beginRun('{"name":', meta())).toThrow(/the experiment is not valid JSON/);
    expect(() => store.beginRun('[1]', meta())).toThrow(/an experiment is a JSON object/);
    const id = store.beginRun(experiment(), meta());
    expect(() => store.finishRun(id, sampleResult(), -1)).toThrow(
      `run ${id}: wallMs -1 is not a duration; use milliseconds >= 0`,
    );
  });

  it('lists runs with filters and tags', () => {
    const a = store.beginRun(experiment('e1'), meta({ name: 'Alpha', strategy: 'gmem' }));
    const b = store.beginRun(experiment('e2'), meta({ name: 'beta', workload: 'gemm' }));
    const c = store.beginRun(experiment('e1'), meta({ name: 'gamma alpha' }));
    store.finishRun(a, { ...sampleResult(), strategy: 'gmem' }, 1);
    store.failRun(b, 'failed', 'x', 1);
    store.addTags(a, ['baseline', 'paper']);
    store.addTags(c, ['paper', 'paper']);
    const ids = (f: Parameters<Store['listRuns']>[0]) => store.listRuns(f).map((r) => r.id);
    expect(ids(undefined)).toEqual([a, b, c]);
    expect(ids({ status: 'done' })).toEqual([a]);
    expect(ids({ status: ['failed', 'running'] })).toEqual([b, c]);
    expect(ids({ strategy: 'gmem' })).toEqual([a]);
    expect(ids({ workload: 'gemm' })).toEqual([b]);
    expect(ids({ experimentHash: experimentHash(experiment('e1')) })).toEqual([a, c]);
    expect(ids({ tag: 'paper' })).toEqual([a, c]);
    expect(ids({ nameContains: 'ALPHA' })).toEqual([a, c]);
    expect(ids({ ids: [c, a] })).toEqual([a, c]);
    expect(ids({ limit: 1, offset: 1 })).toEqual([b]);
    expect(store.listRuns({ ids: [a] })[0].tags).toEqual(['baseline', 'paper']);
    store.removeTags(a, ['paper']);
    expect(store.getRun(a).tags).toEqual(['baseline']);
    expect(() => store.addTags(a, [' '])).toThrow(/a tag is a non-empty string/);
    expect(() => store.listRuns({ status: 'ok' as 'done' })).toThrow(
      'filter.status: "ok" is not a run status; use running, done, failed, cancelled',
    );
  });
});

describe('recoverInterrupted', () => {
  it('cancels running runs whose process is gone, and only those', () => {
    const dead = store.beginRun(experiment(), meta({ name: 'dead' }));
    const live = store.beginRun(experiment(), meta({ name: 'live' }));
    const unknown = store.beginRun(experiment(), meta({ name: 'no pid' }));
    const done = store.beginRun(experiment(), meta());
    store.finishRun(done, sampleResult(), 1);
    store.db.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(deadPid(), dead);
    store.db.prepare('UPDATE runs SET pid = NULL WHERE id IN (?, ?)').run(unknown, done);
    expect(store.recoverInterrupted()).toBe(2);
    expect(store.getRun(dead)).toMatchObject({ status: 'cancelled', error: INTERRUPTED_ERROR });
    expect(store.getRun(unknown).status).toBe('cancelled');
    expect(store.getRun(live).status).toBe('running'); // our own pid: alive
    expect(store.getRun(done).status).toBe('done');
    expect(store.recoverInterrupted()).toBe(0);
  });

  it('runs on open', () => {
    const id = store.beginRun(experiment(), meta());
    store.db.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(deadPid(), id);
    store.close();
    store = Store.open(path);
    expect(store.getRun(id).status).toBe('cancelled');
  });
});
