/** The run store service: SQLite persistence of experiments, runs and results. */
export { Store, RUN_STATUSES, INTERRUPTED_ERROR, noSuchRuns } from './store.js';
export type { RunStatus, RunMeta, RunSummary, RunRecord, RunFilter, StoreOptions } from './store.js';
export { canonicalJson, experimentHash } from './canonical.js';
export { exportRunsToSqlite, exportRunsToCsv, exportRunsToJson } from './export.js';
export type { SqliteExportOptions } from './export.js';
export { importDatabase } from './import.js';
export type { ImportReport } from './import.js';
export { SCHEMA_VERSION, openDatabase, openForReading, migrate } from './schema.js';
