/**
 * The run store: experiments, runs and their results in one SQLite file.
 *
 * Invariant: a run's result rows exist if and only if its status is 'done'. finishRun
 * writes them and flips the status in one transaction, and nothing else writes them, so
 * a crash, a failure or a cancel can never leave half a result behind.
 */
import { randomUUID } from 'node:crypto';
import type { RunResult, Timeline } from '../../../sim/result/types.js';
import { canonicalJson, parseExperiment, sha256 } from './canonical.js';
import { readResultRows, readTimeline, writeResultRows, type StorableResult } from './result-rows.js';
import { openDatabase, openForReading, RUN_CHILD_TABLES, type Db, type Statement } from './schema.js';

export { canonicalJson, experimentHash } from './canonical.js';

export const RUN_STATUSES = ['running', 'done', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const INTERRUPTED_ERROR = 'interrupted: the process ended before the run finished';

export interface RunMeta {
  name: string;
  seed: number;
  modelVersion: string;
  strategy: string;
  workload: string;
}

export interface RunSummary {
  id: number;
  uuid: string;
  name: string;
  experimentId: number;
  experimentHash: string;
  experimentName: string;
  seed: number;
  modelVersion: string;
  strategy: string;
  workload: string;
  status: RunStatus;
  startedAt: string;
  endedAt: string | null;
  wallMs: number | null;
  error: string | null;
  pid: number | null;
  tags: string[];
}

export interface RunRecord extends RunSummary {
  /** Canonical JSON text of the experiment (sorted keys, no whitespace). */
  experimentJson: string;
  /** Present exactly when status is 'done'. */
  result: RunResult | null;
}

export interface RunFilter {
  ids?: number[];
  status?: RunStatus | RunStatus[];
  strategy?: string;
  workload?: string;
  experimentHash?: string;
  tag?: string;
  /** Case-insensitive substring of the run name. */
  nameContains?: string;
  limit?: number;
  offset?: number;
}

export interface StoreOptions {
  /** Mark runs of dead processes as cancelled on open (default true). */
  recover?: boolean;
  /** Clock for started_at/ended_at/created_at; tests pin it. */
  now?: () => Date;
  /**
   * Called inside finishRun's transaction after every row is written and before the
   * commit. Only the crash-safety test uses it, to be killed at the worst moment.
   */
  beforeFinishCommit?: (runId: number) => void;
}

export class Store {
  private readonly now: () => Date;
  /** Set by openReadOnly: shows runs of dead processes as recovery would record them. */
  private showInterrupted = false;
  /** Prepared statements by SQL text: preparing costs more than running a run's small inserts. */
  private readonly statements = new Map<string, Statement>();

  private constructor(
    /** The path as given to open(); error messages quote it so the user recognises it. */
    readonly path: string,
    /** The connection; for the export and import services in this folder. */
    readonly db: Db,
    private readonly options: StoreOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  static open(path: string, options: StoreOptions = {}): Store {
    const store = new Store(path, openDatabase(path), options);
    if (options.recover !== false) store.recoverInterrupted();
    return store;
  }

  /**
   * Opens a database only to read it (listing, exporting): nothing in or beside the file
   * changes, no interrupted run is recovered, and any write throws.
   */
  static openReadOnly(path: string): Store {
    const store = new Store(path, openForReading(path), { recover: false });
    store.showInterrupted = true;
    return store;
  }

  close(): void {
    this.db.close();
  }

  private sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) this.statements.set(text, (statement = this.db.prepare(text)));
    return statement;
  }

  /** Records the experiment (once per distinct canonical text) and a 'running' run; returns its id. */
  beginRun(experimentJson: string, meta: RunMeta): number {
    checkMeta(meta, this.path);
    const doc = parseExperiment(experimentJson);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      throw new Error(
        `the experiment of run ${JSON.stringify(meta.name)} is ${JSON.stringify(doc)?.slice(0, 40)}; an experiment is a JSON object with name, seed, ...`,
      );
    }
    const json = canonicalJson(doc);
    const hash = sha256(json);
    const docName = (doc as { name?: unknown }).name;
    const experimentName = typeof docName === 'string' && docName ? docName : meta.name;
    const at = this.now().toISOString();
    return this.db.transaction(() => {
      this.sql(
        'INSERT INTO experiments (name, hash, json, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING',
      ).run(experimentName, hash, json, at);
      const exp = this.sql('SELECT id FROM experiments WHERE hash = ?').get(hash) as { id: number };
      const info = this.sql(
        `INSERT INTO runs (uuid, experiment_id, experiment_hash, name, seed, model_version, strategy, workload,
                             status, started_at, pid)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)`,
      ).run(
        randomUUID(),
        exp.id,
        hash,
        meta.name,
        meta.seed,
        meta.modelVersion,
        meta.strategy,
        meta.workload,
        at,
        process.pid,
      );
      return Number(info.lastInsertRowid);
    })();
  }

  /**
   * Stores the whole result and marks the run done, in one transaction. The run's seed,
   * model version, strategy and workload are updated to the result's: the result says
   * what was actually simulated.
   */
  finishRun(runId: number, result: StorableResult, wallMs: number): void {
    checkWallMs(wallMs, runId);
    this.db.transaction(() => {
      this.requireRunning(runId, 'finished');
      try {
        writeResultRows((sql) => this.sql(sql), runId, result);
      } catch (e) {
        throw new Error(`run ${runId}: the result could not be stored in ${this.path}: ${(e as Error).message}`);
      }
      this.sql(
        `UPDATE runs SET status = 'done', ended_at = ?, wall_ms = ?, error = NULL,
                  seed = ?, model_version = ?, strategy = ?, workload = ?
           WHERE id = ?`,
      ).run(
        this.now().toISOString(),
        wallMs,
        result.seed,
        result.modelVersion,
        result.strategy,
        result.workload,
        runId,
      );
      this.options.beforeFinishCommit?.(runId);
    })();
  }

  /**
   * Turns a done run into a cancelled one, deleting its result rows in the same
   * transaction (tags stay): for a cancel that arrived while the result was being stored.
   */
  revokeResult(runId: number, error: string): void {
    this.db.transaction(() => {
      const row = this.sql('SELECT status FROM runs WHERE id = ?').get(runId) as { status: RunStatus } | undefined;
      if (!row) throw noSuchRuns(this.path, [runId]);
      if (row.status !== 'done') {
        throw new Error(`run ${runId} in ${this.path} is ${row.status}; only a done run's result can be revoked`);
      }
      for (const { table } of RUN_CHILD_TABLES) {
        if (table !== 'tags') this.sql(`DELETE FROM ${table} WHERE run_id = ?`).run(runId);
      }
      this.sql(`UPDATE runs SET status = 'cancelled', error = ? WHERE id = ?`).run(String(error), runId);
    })();
  }

  failRun(runId: number, status: 'failed' | 'cancelled', error: string, wallMs: number): void {
    if (status !== 'failed' && status !== 'cancelled') {
      throw new Error(
        `run ${runId}: status ${JSON.stringify(status)} cannot end a run that failed; use 'failed' or 'cancelled'`,
      );
    }
    checkWallMs(wallMs, runId);
    this.db.transaction(() => {
      this.requireRunning(runId, status);
      this.sql('UPDATE runs SET status = ?, ended_at = ?, wall_ms = ?, error = ? WHERE id = ?').run(
        status,
        this.now().toISOString(),
        wallMs,
        String(error),
        runId,
      );
    })();
  }

  listRuns(filter: RunFilter = {}): RunSummary[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.ids) {
      where.push(`r.id IN (SELECT value FROM json_each(?))`);
      args.push(JSON.stringify(filter.ids));
    }
    if (filter.status !== undefined) {
      const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
      for (const s of statuses) {
        if (!RUN_STATUSES.includes(s)) {
          throw new Error(`filter.status: ${JSON.stringify(s)} is not a run status; use ${RUN_STATUSES.join(', ')}`);
        }
      }
      where.push(`r.status IN (SELECT value FROM json_each(?))`);
      args.push(JSON.stringify(statuses));
    }
    for (const [key, column] of [
      ['strategy', 'r.strategy'],
      ['workload', 'r.workload'],
      ['experimentHash', 'r.experiment_hash'],
    ] as const) {
      if (filter[key] !== undefined) {
        where.push(`${column} = ?`);
        args.push(filter[key]);
      }
    }
    if (filter.tag !== undefined) {
      where.push('EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.tag = ?)');
      args.push(filter.tag);
    }
    if (filter.nameContains) {
      where.push(`instr(lower(r.name), lower(?)) > 0`);
      args.push(filter.nameContains);
    }
    let sql = `${SUMMARY_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id`;
    if (filter.limit !== undefined || filter.offset !== undefined) {
      sql += ' LIMIT ? OFFSET ?';
      args.push(filter.limit ?? -1, filter.offset ?? 0);
    }
    return (this.db.prepare(sql).all(...args) as SummaryRow[]).map((r) => this.view(toSummary(r)));
  }

  getRun(id: number): RunRecord {
    return this.db.transaction(() => {
      const row = this.sql(`${SUMMARY_SELECT} WHERE r.id = ?`).get(id) as SummaryRow | undefined;
      if (!row) throw noSuchRuns(this.path, [id]);
      const summary = this.view(toSummary(row));
      return {
        ...summary,
        experimentJson: row.experiment_json,
        result: summary.status === 'done' ? readResultRows(this.db, row) : null,
      };
    })();
  }

  /** A run's component timeline; null when it recorded none (or was stored before timelines existed). */
  getTimeline(id: number): Timeline | null {
    this.requireRuns([id]);
    return readTimeline(this.db, id);
  }

  /** Throws the standard "run N does not exist" error unless every id is a run here. */
  requireRuns(ids: readonly number[]): void {
    const found = new Set(
      (
        this.sql('SELECT id FROM runs WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids)) as {
          id: number;
        }[]
      ).map((r) => r.id),
    );
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length) throw noSuchRuns(this.path, missing);
  }

  addTags(runId: number, tags: readonly string[]): void {
    this.db.transaction(() => {
      this.requireRuns([runId]);
      const insert = this.sql('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)');
      for (const tag of tags) {
        if (typeof tag !== 'string' || tag.trim() === '') {
          throw new Error(`run ${runId}: tag ${JSON.stringify(tag)} is empty; a tag is a non-empty string`);
        }
        insert.run(runId, tag);
      }
    })();
  }

  removeTags(runId: number, tags: readonly string[]): void {
    const del = this.sql('DELETE FROM tags WHERE run_id = ? AND tag = ?');
    this.db.transaction(() => tags.forEach((t) => del.run(runId, t)))();
  }

  /**
   * Deletes runs with their results and tags, and experiments no run uses any more, in one
   * transaction; returns how many runs went. A running run cannot be deleted (its worker
   * would write into a missing row): cancel it first.
   */
  deleteRuns(ids: readonly number[]): number {
    return this.db.transaction(() => {
      this.requireRuns(ids);
      const running = this.listRuns({ ids: [...ids], status: 'running' }).map((r) => r.id);
      if (running.length) {
        throw new Error(`run ${running.join(', ')} is still running in ${this.path}; cancel it first, then delete`);
      }
      const list = JSON.stringify(ids);
      for (const { table } of RUN_CHILD_TABLES) {
        this.sql(`DELETE FROM ${table} WHERE run_id IN (SELECT value FROM json_each(?))`).run(list);
      }
      const deleted = this.sql('DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))').run(list).changes;
      this.sql('DELETE FROM experiments WHERE id NOT IN (SELECT experiment_id FROM runs)').run();
      return deleted;
    })();
  }

  /**
   * Marks 'running' runs whose writer process is gone as cancelled, and returns how
   * many. A pid that is alive may belong to an unrelated process that reused it; such a
   * run stays 'running' until that process ends, which errs on the side of never
   * cancelling a live run.
   */
  recoverInterrupted(): number {
    const running = this.sql(`SELECT id, pid FROM runs WHERE status = 'running'`).all() as {
      id: number;
      pid: number | null;
    }[];
    const mark = this.sql(
      `UPDATE runs SET status = 'cancelled', error = ?, ended_at = ? WHERE id = ? AND status = 'running'`,
    );
    let marked = 0;
    const at = this.now().toISOString();
    this.db.transaction(() => {
      for (const r of running) {
        if (!processAlive(r.pid)) marked += mark.run(INTERRUPTED_ERROR, at, r.id).changes;
      }
    })();
    return marked;
  }

  /** A read-only store cannot recover a dead writer's run; it shows what recovery would write. */
  private view(run: RunSummary): RunSummary {
    if (!this.showInterrupted || run.status !== 'running' || processAlive(run.pid)) return run;
    return { ...run, status: 'cancelled', error: INTERRUPTED_ERROR, endedAt: run.endedAt };
  }

  private requireRunning(runId: number, verb: string): void {
    const row = this.sql('SELECT status FROM runs WHERE id = ?').get(runId) as { status: RunStatus } | undefined;
    if (!row) throw noSuchRuns(this.path, [runId]);
    if (row.status !== 'running') {
      throw new Error(`run ${runId} in ${this.path} is already ${row.status}; only a running run can be ${verb}`);
    }
  }
}

/** Ids that are not runs in the database (a wrong argument, not a broken database). */
export class NoSuchRunsError extends Error {
  override name = 'NoSuchRunsError';
}

/** The error for ids that are not runs in the database at `path`, with how to list the valid ones. */
export function noSuchRuns(path: string, ids: readonly number[]): NoSuchRunsError {
  const list = ids.join(', ');
  const what = ids.length === 1 ? `run ${list} does not exist` : `runs ${list} do not exist`;
  const arg = /^[\w./\\:-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
  return new NoSuchRunsError(`${what} in ${path}; \`hetmem runs --db ${arg}\` lists the runs`);
}

function processAlive(pid: number | null): boolean {
  if (pid === null) return false; // e.g. written by a tool that does not record it
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function checkMeta(meta: RunMeta, path: string): void {
  for (const key of ['name', 'modelVersion', 'strategy', 'workload'] as const) {
    if (typeof meta[key] !== 'string') {
      throw new Error(`meta.${key}: ${JSON.stringify(meta[key])} is not a string; a run in ${path} needs a ${key}`);
    }
  }
  if (!Number.isSafeInteger(meta.seed) || meta.seed < 0) {
    throw new Error(`meta.seed: ${meta.seed} is not a seed; use a whole number from 0 to 4294967295`);
  }
}

function checkWallMs(wallMs: number, runId: number): void {
  if (!Number.isFinite(wallMs) || wallMs < 0) {
    throw new Error(`run ${runId}: wallMs ${wallMs} is not a duration; use milliseconds >= 0`);
  }
}

const SUMMARY_SELECT = `
  SELECT r.*, e.name AS experiment_name, e.json AS experiment_json,
         (SELECT json_group_array(tag) FROM (SELECT tag FROM tags t WHERE t.run_id = r.id ORDER BY tag)) AS tags_json
  FROM runs r JOIN experiments e ON e.id = r.experiment_id`;

interface SummaryRow {
  id: number;
  uuid: string;
  name: string;
  experiment_id: number;
  experiment_hash: string;
  experiment_name: string;
  experiment_json: string;
  seed: number;
  model_version: string;
  strategy: string;
  workload: string;
  status: RunStatus;
  started_at: string;
  ended_at: string | null;
  wall_ms: number | null;
  error: string | null;
  pid: number | null;
  tags_json: string;
}

function toSummary(r: SummaryRow): RunSummary {
  return {
    id: r.id,
    uuid: r.uuid,
    name: r.name,
    experimentId: r.experiment_id,
    experimentHash: r.experiment_hash,
    experimentName: r.experiment_name,
    seed: r.seed,
    modelVersion: r.model_version,
    strategy: r.strategy,
    workload: r.workload,
    status: r.status,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    wallMs: r.wall_ms,
    error: r.error,
    pid: r.pid,
    tags: JSON.parse(r.tags_json) as string[],
  };
}
