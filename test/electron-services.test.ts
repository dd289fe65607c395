/**
 * The desktop app's services over a real store on a temporary SQLite file: what they
 * answer must parse with the contract's response schemas, so the UI gets exactly the
 * shapes src/shared promises, whatever the store's own records look like.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REQUESTS, type HetmemApi } from '../src/shared/api.js';
import { storeApi } from '../src/main/electron/services.js';
import { Store } from '../src/main/services/store/store.js';
import { experiment, meta, sampleResult, tempDir } from '../src/main/services/store/test-fixtures.js';

describe('storeApi', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let api: HetmemApi;
  let done: number;
  let failed: number;

  beforeEach(() => {
    tmp = tempDir();
    const databasePath = tmp.file('hetmem.sqlite');
    store = Store.open(databasePath);
    api = storeApi(store, { databasePath, modelVersion: '0.1.0' });
    done = store.beginRun(experiment('gpu-stream'), meta({ name: 'gpu-stream' }));
    store.finishRun(done, sampleResult(), 1234);
    failed = store.beginRun(experiment('pinned'), meta({ name: 'pinned', strategy: 'explicit-copy' }));
    store.failRun(failed, 'failed', 'SIGBUS: CPU touch of a page pinned to device memory', 12);
  });

  afterEach(() => {
    store.close();
    tmp.remove();
  });

  it('lists runs in the contract shape, filtered by status', async () => {
    const all = await api.listRuns();
    expect(REQUESTS.listRuns.response.parse(all)).toEqual(all);
    expect(all.map((r) => [r.id, r.status])).toEqual([
      [done, 'done'],
      [failed, 'failed'],
    ]);
    expect(Object.keys(all[0]!).sort()).toEqual(
      ['id', 'name', 'strategy', 'workload', 'seed', 'status', 'startedAt', 'endedAt', 'wallMs', 'error'].sort(),
    );
    expect((await api.listRuns({ status: 'failed' })).map((r) => r.id)).toEqual([failed]);
    expect(await api.listRuns({ status: 'running' })).toEqual([]);
  });

  it('returns a finished run with its results, a failed one with its error, and null for no run', async () => {
    const run = await api.getRun(done);
    expect(REQUESTS.getRun.response.safeParse(run).success).toBe(true);
    expect(run?.metrics['link.h2d_bytes']).toEqual({ value: 1 << 30, unit: 'B' });
    expect(run?.experiment).toMatchObject({ name: 'gpu-stream' });

    const bad = await api.getRun(failed);
    expect(REQUESTS.getRun.response.safeParse(bad).success).toBe(true);
    expect(bad).toMatchObject({ status: 'failed', error: expect.stringContaining('SIGBUS'), metrics: {} });

    expect(await api.getRun(9999)).toBeNull();
  });

  it('tells the UI where the database is', async () => {
    expect(await api.getInfo()).toEqual({ databasePath: tmp.file('hetmem.sqlite'), modelVersion: '0.1.0' });
  });
});
