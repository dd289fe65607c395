/**
 * The Api's implementation: one object answering every request of src/shared/api.ts, and
 * the run events. Both transports (Electron's ipcMain, the web server) wrap the same
 * instance, so the desktop app and `npm run serve` behave alike.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compareKeyMetrics,
  isKeyMetric,
  type ExportFormat,
  type FilePayload,
  type HetmemApi,
  type Info,
  type Metrics,
  type RunDetail,
  type RunEventSource,
  type RunSummary,
} from '../../../shared/api.js';
import type { PresetMap } from '../../../sim/config/validate.js';
import { loadExampleExperiments, loadHardwarePresets, loadPresetMap } from '../presets.js';
import { prepareExperiment } from '../runner/index.js';
import { exportRunsToCsv, exportRunsToJson, exportRunsToSqlite } from '../store/export.js';
import { importDatabase } from '../store/import.js';
import { storeAccessError } from '../store/schema.js';
import type { RunRecord, RunSummary as StoredRunSummary, Store } from '../store/store.js';
import { listSweeps, loadSweep } from '../sweeps/view.js';
import { ActiveRuns } from './active-runs.js';
import { ActiveSweeps } from './active-sweeps.js';
import { exportRunsToWideCsv } from './formats.js';
import { exportRunsToTrace } from './trace.js';
import { locateIssues } from './locate.js';

export { locateIssues, pathSegments } from './locate.js';

export interface Workbench {
  api: HetmemApi;
  events: RunEventSource;
  /** Cancels the runs in progress and waits until they are recorded. */
  stop(): Promise<void>;
}

export interface WorkbenchOptions {
  /** Default: the shipped presets. */
  presets?: PresetMap;
  /** Folder a trace workload's relative path is resolved against; default the cwd. */
  baseDir?: string;
  progressIntervalMs?: number;
  seriesIntervalMs?: number;
  /** Runs that may run at once; more wait in a queue. Default 1. */
  concurrency?: number;
  /** Pool threads of the sweeps the app starts; default one per core. */
  sweepWorkers?: number;
}

export function createWorkbench(store: Store, info: Info, options: WorkbenchOptions = {}): Workbench {
  const active = new ActiveRuns(store, options);
  const presets = () => options.presets ?? loadPresetMap();
  const prepare = (text: string) => prepareExperiment(text, { presets: presets(), baseDir: options.baseDir });
  const sweeps = new ActiveSweeps(store, { presets, baseDir: options.baseDir, workers: options.sweepWorkers });

  const api: HetmemApi = {
    getInfo: async () => ({ ...info }),
    listRuns: async (filter = {}) => {
      const runs = store.listRuns({ ...filter });
      const key = metricsOf(
        store,
        runs.filter((r) => r.status === 'done').map((r) => r.id),
        isKeyMetric,
      );
      return runs.map((r) => toSummary(r, key.get(r.id) ?? {}));
    },
    getRun: async (id) => {
      // The store throws for an unknown id; the contract answers null, which the UI shows
      // as "no longer in the database" rather than as a failure.
      if (store.listRuns({ ids: [id] }).length === 0) return null;
      return toDetail(store.getRun(id));
    },
    getTimeline: async (id) => store.getTimeline(id),
    compareRuns: async (ids) => {
      store.requireRuns(ids);
      const summaries = new Map(store.listRuns({ ids }).map((r) => [r.id, r]));
      const experiments = new Map(
        (
          store.db
            .prepare(
              `SELECT r.id, e.json FROM runs r JOIN experiments e ON e.id = r.experiment_id
               WHERE r.id IN (SELECT value FROM json_each(?))`,
            )
            .all(JSON.stringify(ids)) as { id: number; json: string }[]
        ).map((row) => [row.id, JSON.parse(row.json) as unknown]),
      );
      const metrics = metricsOf(store, ids, () => true);
      return ids.map((id) => {
        const all = metrics.get(id) ?? {};
        const key = Object.fromEntries(Object.entries(all).filter(([name]) => isKeyMetric(name)));
        return { ...toSummary(summaries.get(id)!, key), experiment: experiments.get(id), metrics: all };
      });
    },
    listPresets: async () => ({
      hardware: loadHardwarePresets().map((p) => ({ name: p.name, description: p.description })),
      examples: loadExampleExperiments().map((e) => ({
        name: e.name,
        title: e.title,
        description: e.description,
        text: readFileSync(e.file, 'utf8'),
      })),
    }),
    validateExperiment: async (text) => {
      const prepared = prepare(text);
      return { issues: prepared.ok ? [] : locateIssues(text, prepared.issues) };
    },
    startRun: async (text) => {
      const prepared = prepare(text);
      if (!prepared.ok) return { ok: false, issues: locateIssues(text, prepared.issues) };
      try {
        return { ok: true, ...active.start(prepared) };
      } catch (e) {
        throw storeAccessError(store.path, e);
      }
    },
    cancelRun: async (id) => active.cancel(id),
    dequeueRun: async (queueId) => active.dequeue(queueId),
    activeRuns: async () => active.list(),
    tagRun: async (id, { add = [], remove = [] }) => {
      store.addTags(id, add);
      store.removeTags(id, remove);
      return store.listRuns({ ids: [id] })[0]?.tags ?? [];
    },
    deleteRuns: async (ids) => store.deleteRuns(ids),
    exportRuns: async (ids, format) => exportRuns(store, ids, format),
    importDatabase: async (file) => {
      const dir = mkdtempSync(join(tmpdir(), 'hetmem-import-'));
      const path = join(dir, 'import.sqlite');
      try {
        writeFileSync(path, Buffer.from(file.base64, 'base64'));
        return importDatabase(store, path);
      } catch (e) {
        // The temporary name means nothing to the user; the file they chose does.
        throw new Error((e as Error).message.replaceAll(path, file.fileName));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    listSweeps: async () => listSweeps(store),
    getSweep: async (id, metric) => {
      const view = loadSweep(store, id, metric);
      return view ? { ...view, progress: sweeps.progress(id) } : sweeps.empty(id);
    },
    startSweep: async (text) => {
      const started = sweeps.start(text);
      return started.ok ? started : { ok: false, issues: locateIssues(text, started.issues) };
    },
  };
  return {
    api,
    events: active,
    stop: async () => {
      await Promise.all([active.stopAll(), sweeps.stopAll()]);
    },
  };
}

const EXPORTS: Record<ExportFormat, { extension: string; mediaType: string }> = {
  sqlite: { extension: 'sqlite', mediaType: 'application/vnd.sqlite3' },
  csv: { extension: 'csv', mediaType: 'text/csv' },
  'csv-wide': { extension: 'wide.csv', mediaType: 'text/csv' },
  json: { extension: 'json', mediaType: 'application/json' },
  trace: { extension: 'trace.json', mediaType: 'application/json' },
};

function exportRuns(store: Store, ids: number[], format: ExportFormat): FilePayload {
  const { extension, mediaType } = EXPORTS[format];
  const fileName = `hetmem-runs-${ids.length === 1 ? ids[0] : `${ids[0]}-and-${ids.length - 1}-more`}.${extension}`;
  let bytes: Buffer;
  if (format === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'hetmem-export-'));
    try {
      const path = join(dir, 'export.sqlite');
      exportRunsToSqlite(store, ids, path);
      bytes = readFileSync(path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    const text = {
      csv: exportRunsToCsv,
      'csv-wide': exportRunsToWideCsv,
      json: exportRunsToJson,
      trace: exportRunsToTrace,
    }[format](store, ids);
    bytes = Buffer.from(text, 'utf8');
  }
  return { fileName, mediaType, base64: bytes.toString('base64') };
}

/** The metrics of each run whose name passes `keep`, key metrics first (compareKeyMetrics). */
function metricsOf(store: Store, ids: number[], keep: (name: string) => boolean): Map<number, Metrics> {
  const out = new Map<number, Metrics>();
  if (ids.length === 0) return out;
  const rows = store.db
    .prepare('SELECT run_id, name, value, unit FROM metrics WHERE run_id IN (SELECT value FROM json_each(?))')
    .all(JSON.stringify(ids)) as { run_id: number; name: string; value: number | null; unit: string }[];
  rows.sort((a, b) => compareKeyMetrics(a.name, b.name));
  for (const r of rows) {
    if (!keep(r.name)) continue;
    let m = out.get(r.run_id);
    if (!m) out.set(r.run_id, (m = {}));
    m[r.name] = { value: r.value ?? NaN, unit: r.unit };
  }
  return out;
}

export function toSummary(run: StoredRunSummary, keyMetrics: RunSummary['keyMetrics'] = {}): RunSummary {
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
    tags: run.tags,
    keyMetrics,
  };
}

export function toDetail(run: RunRecord): RunDetail {
  const metrics = run.result?.metrics ?? {};
  const keyMetrics = Object.fromEntries(
    Object.entries(metrics)
      .filter(([name]) => isKeyMetric(name))
      .sort(([a], [b]) => compareKeyMetrics(a, b)),
  );
  return {
    ...toSummary(run, keyMetrics),
    modelVersion: run.modelVersion,
    experimentHash: run.experimentHash,
    experiment: JSON.parse(run.experimentJson) as unknown,
    metrics,
    series: run.result?.series ?? [],
    histograms: run.result?.histograms ?? [],
    attribution: run.result?.attribution ?? [],
    ops: run.result?.ops ?? [],
    snapshots: run.result?.snapshots ?? [],
  };
}
