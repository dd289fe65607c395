/**
 * Copies runs, their experiments and all their rows from one workbench database to
 * another: the engine of both export (into a fresh file, ids kept) and import (into a
 * populated store, ids remapped). The caller holds the transactions.
 */
import { RUN_CHILD_TABLES, type Db } from './schema.js';

/** Columns of `runs` other than id and experiment_id, in one place for both statements. */
const RUN_COLUMNS = [
  'uuid',
  'experiment_hash',
  'name',
  'seed',
  'model_version',
  'strategy',
  'workload',
  'status',
  'started_at',
  'ended_at',
  'wall_ms',
  'error',
  'pid',
] as const;

export interface CopyOptions {
  /** Keep run and experiment ids (export into an empty file); otherwise the target assigns them. */
  keepIds: boolean;
}

/**
 * Copies each run of `runIds` that the target lacks (by uuid) and is not still running;
 * returns how many were copied and how many skipped.
 */
export function copyRuns(
  from: Db,
  to: Db,
  runIds: readonly number[],
  opts: CopyOptions,
): { copied: number; skipped: number } {
  const getRun = from.prepare('SELECT * FROM runs WHERE id = ?');
  const getExp = from.prepare('SELECT id, name, hash, json, created_at FROM experiments WHERE id = ?');
  const hasUuid = to.prepare('SELECT 1 FROM runs WHERE uuid = ?').pluck();
  const expByHash = to.prepare('SELECT id FROM experiments WHERE hash = ?').pluck();
  const insExp = to.prepare(
    'INSERT INTO experiments (id, name, hash, json, created_at) VALUES (@id, @name, @hash, @json, @created_at)',
  );
  const cols = ['id', 'experiment_id', ...RUN_COLUMNS];
  const insRun = to.prepare(`INSERT INTO runs (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`);
  const children = RUN_CHILD_TABLES.map(({ table, columns }) => ({
    read: from.prepare(`SELECT ${columns.join(', ')} FROM ${table} WHERE run_id = ? ORDER BY rowid`).raw(),
    write: to.prepare(`INSERT INTO ${table} (run_id, ${columns.join(', ')}) VALUES (?${', ?'.repeat(columns.length)})`),
  }));

  let copied = 0;
  let skipped = 0;
  for (const id of runIds) {
    const run = getRun.get(id) as Record<string, unknown> & { experiment_id: number; uuid: string; status: string };
    // A running run's rows are not final, and its pid means nothing in another database.
    if (run.status === 'running' || hasUuid.get(run.uuid)) {
      skipped++;
      continue;
    }
    const exp = getExp.get(run.experiment_id) as { id: number; hash: string };
    let expId = expByHash.get(exp.hash) as number | undefined;
    if (expId === undefined) {
      expId = Number(insExp.run({ ...exp, id: opts.keepIds ? exp.id : null }).lastInsertRowid);
    }
    const newId = Number(
      insRun.run({ ...run, id: opts.keepIds ? run.id : null, experiment_id: expId }).lastInsertRowid,
    );
    for (const c of children) {
      for (const row of c.read.all(id) as unknown[][]) c.write.run(newId, ...row);
    }
    copied++;
  }
  return { copied, skipped };
}
