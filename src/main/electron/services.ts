/**
 * The services behind the Api, composed for the desktop app: the run store answers the
 * run requests. The store's own types are mapped to the contract here, so the contract
 * does not change when the store's internals do.
 */
import type { HetmemApi, Info, ListRunsFilter, RunDetail, RunSummary } from '../../shared/api.js';

/** What this module needs from the store (src/main/services/store). */
export interface RunStore {
  listRuns(filter?: ListRunsFilter): RunSummary[];
  getRun(id: number): RunDetail | null | undefined;
}

export function storeApi(store: RunStore, info: Info): HetmemApi {
  return {
    getInfo: () => Promise.resolve({ ...info }),
    listRuns: (filter) => Promise.resolve(store.listRuns(filter)),
    getRun: (id) => Promise.resolve(store.getRun(id) ?? null),
  };
}
