/**
 * The services behind the Api, composed for the desktop app: the run store answers the
 * run requests. The store's records are mapped to the contract here, so that the contract
 * (what the UI relies on) does not change when the store's internals do.
 */
import type { HetmemApi, Info, RunDetail, RunSummary } from '../../shared/api.js';
import type { RunRecord, RunSummary as StoredRunSummary, Store } from '../services/store/store.js';

/** What the Api needs of the store. */
export type RunStore = Pick<Store, 'listRuns' | 'getRun'>;

export function storeApi(store: RunStore, info: Info): HetmemApi {
  return {
    getInfo: async () => ({ ...info }),
    listRuns: async (filter) => store.listRuns(filter?.status ? { status: filter.status } : {}).map(toSummary),
    getRun: async (id) => {
      // The store throws for an unknown id; the contract answers null, which the UI shows
      // as "no longer in the database" rather than as a failure.
      if (store.listRuns({ ids: [id] }).length === 0) return null;
      return toDetail(store.getRun(id));
    },
  };
}

export function toSummary(run: StoredRunSummary): RunSummary {
  return {
    id: run.id,
    name: run.name,
    strategy: run.strategy,
    workload: run.workload,
    seed: run.seed,
    status: run.status,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    wallMs: run.wallMs,
    error: run.error,
  };
}

export function toDetail(run: RunRecord): RunDetail {
  return {
    ...toSummary(run),
    modelVersion: run.modelVersion,
    experimentHash: run.experimentHash,
    experiment: JSON.parse(run.experimentJson) as unknown,
    metrics: run.result?.metrics ?? {},
    series: run.result?.series ?? [],
    histograms: run.result?.histograms ?? [],
    attribution: run.result?.attribution ?? [],
  };
}
