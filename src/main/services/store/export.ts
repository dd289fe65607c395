/**
 * Exporting chosen runs: into a new workbench database (which `importDatabase` or
 * `Store.open` read like any other), as CSV of their metrics, or as JSON.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { copyRuns } from './copy.js';
import { openDatabase, type Db } from './schema.js';
import type { Store } from './store.js';

export interface SqliteExportOptions {
  /** Replace `outPath` if it exists; otherwise an existing file is an error. */
  overwrite?: boolean;
}

/**
 * Writes the runs and their experiments into a new database file at `outPath`, keeping
 * their ids and uuids. The file is built under a temporary name in the same folder and
 * renamed into place, so `outPath` is never seen half written.
 */
export function exportRunsToSqlite(
  store: Store,
  runIds: readonly number[],
  outPath: string,
  options: SqliteExportOptions = {},
): void {
  store.requireRuns(runIds);
  const running = store.listRuns({ ids: [...runIds], status: 'running' });
  if (running.length) {
    const ids = running.map((r) => r.id).join(', ');
    const what = running.length === 1 ? `run ${ids} is` : `runs ${ids} are`;
    throw new Error(`${what} still running in ${store.path}; wait for the run to end or cancel it, then export`);
  }
  if (existsSync(outPath)) {
    if (!options.overwrite) {
      throw new Error(
        `${outPath} already exists; choose a new file name, or pass { overwrite: true } (--overwrite) to replace it`,
      );
    }
    if (realpathSync(outPath) === realpathSync(store.path)) {
      throw new Error(`${outPath} is the store being exported; choose another file name`);
    }
  }
  const tmp = join(dirname(outPath), `.${basename(outPath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let out: Db | undefined;
  try {
    out = openDatabase(tmp);
    const target = out;
    store.db.transaction(() => target.transaction(() => copyRuns(store.db, target, runIds, { keepIds: true }))())();
    // One self-contained file to hand around: fold the WAL back in and stop using it.
    out.pragma('journal_mode = DELETE');
    out.close();
    out = undefined;
    if (options.overwrite) removeSidecars(outPath);
    renameSync(tmp, outPath);
  } catch (e) {
    out?.close();
    rmSync(tmp, { force: true });
    removeSidecars(tmp);
    throw new Error(`exporting to ${outPath} failed, nothing was written: ${(e as Error).message}`);
  }
}

/**
 * A journal or WAL left beside the file we replace would be replayed into the new
 * database by the next open and corrupt it, so it goes with the old file.
 */
function removeSidecars(path: string): void {
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true });
}

const CSV_HEADER = ['run_id', 'run_name', 'strategy', 'workload', 'seed', 'status', 'metric', 'value', 'unit'];

/**
 * One row per run and metric, RFC 4180 (CRLF line ends, fields quoted when they hold a
 * comma, quote or line break). A run without metrics (failed, cancelled, running) still
 * gets one row, with empty metric, value and unit, so every chosen run is visible.
 */
export function exportRunsToCsv(store: Store, runIds: readonly number[]): string {
  store.requireRuns(runIds);
  const runs = new Map(store.listRuns({ ids: [...runIds] }).map((r) => [r.id, r]));
  const metrics = store.db.prepare('SELECT name, value, unit FROM metrics WHERE run_id = ? ORDER BY rowid');
  const lines = [CSV_HEADER.join(',')];
  for (const id of runIds) {
    const r = runs.get(id)!;
    const head = [r.id, r.name, r.strategy, r.workload, r.seed, r.status];
    const rows = metrics.all(id) as { name: string; value: number | null; unit: string }[];
    if (rows.length === 0) lines.push(csvLine([...head, '', '', '']));
    for (const m of rows) lines.push(csvLine([...head, m.name, m.value ?? NaN, m.unit]));
  }
  return lines.join('\r\n') + '\r\n';
}

function csvLine(fields: ReadonlyArray<string | number>): string {
  return fields
    .map((f) => {
      const s = String(f);
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(',');
}

/**
 * An array of { run, experiment, result } in the order of `runIds`; result is null
 * unless the run is done. JSON has no NaN or Infinity: such metric values become null.
 */
export function exportRunsToJson(store: Store, runIds: readonly number[]): string {
  store.requireRuns(runIds);
  const docs = runIds.map((id) => {
    const { experimentJson, result, ...run } = store.getRun(id);
    return { run, experiment: JSON.parse(experimentJson) as unknown, result };
  });
  return JSON.stringify(docs, null, 2);
}
