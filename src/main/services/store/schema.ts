/**
 * The workbench database schema and its forward migrations.
 *
 * `PRAGMA user_version` holds the schema version; MIGRATIONS[i] takes a database from
 * version i to i + 1. A migration never edits an earlier one: a file written by any
 * earlier release must open by running the tail of this list. `PRAGMA application_id`
 * marks the file as ours, so a stranger's SQLite file is refused instead of having our
 * tables created inside it.
 */
import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';

export type Db = Database.Database;
export type Statement = Database.Statement;
export type Migration = (db: Db) => void;

/** 'HWWB' in ASCII: Hetmem Workbench. */
export const APPLICATION_ID = 0x48575742;

const V1 = `
CREATE TABLE experiments (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  hash        TEXT NOT NULL UNIQUE,  -- sha256 of json, which is canonical (sorted keys)
  json        TEXT NOT NULL,
  created_at  TEXT NOT NULL          -- ISO 8601, UTC
) STRICT;

-- AUTOINCREMENT: run ids appear in CLI output, exports and people's notes, so an id is
-- never handed out twice, even after the highest run is deleted.
CREATE TABLE runs (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid             TEXT NOT NULL UNIQUE,  -- identity across databases, for import
  experiment_id    INTEGER NOT NULL REFERENCES experiments(id),
  experiment_hash  TEXT NOT NULL,
  name             TEXT NOT NULL,
  seed             INTEGER NOT NULL,
  model_version    TEXT NOT NULL,
  strategy         TEXT NOT NULL,
  workload         TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
  started_at       TEXT NOT NULL,
  ended_at         TEXT,
  wall_ms          REAL,
  error            TEXT,
  pid              INTEGER               -- the process writing a 'running' run
) STRICT;
CREATE INDEX runs_experiment ON runs(experiment_id);
CREATE INDEX runs_status ON runs(status);

-- Result rows. All are written in finishRun's single transaction and read back in
-- rowid (insertion) order, which is the order of the result's keys and arrays.
CREATE TABLE metrics (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name    TEXT NOT NULL,
  value   REAL,                          -- NULL only for NaN, which SQLite cannot hold
  unit    TEXT NOT NULL,
  PRIMARY KEY (run_id, name)
) STRICT;

CREATE TABLE series (
  run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  unit         TEXT NOT NULL,
  interval_ns  REAL NOT NULL,
  values_f64   BLOB NOT NULL             -- little-endian float64 per sample: exact and compact
) STRICT;
CREATE INDEX series_run ON series(run_id);

CREATE TABLE histograms (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name    TEXT NOT NULL,
  unit    TEXT NOT NULL,
  json    TEXT NOT NULL                  -- { bounds, counts, count, sum, min, max }
) STRICT;
CREATE INDEX histograms_run ON histograms(run_id);

-- One row per agent and category; contexts and total_ns repeat on each row of an
-- agent so the Attribution object rebuilds from this table alone.
CREATE TABLE attribution (
  run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  agent     TEXT NOT NULL,
  contexts  INTEGER NOT NULL,
  total_ns  REAL NOT NULL,
  category  TEXT NOT NULL,
  ns        REAL NOT NULL,
  PRIMARY KEY (run_id, agent, category)
) STRICT;

CREATE TABLE results_extra (
  run_id           INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  experiment_name  TEXT NOT NULL,
  ops_json         TEXT NOT NULL,
  snapshots_json   TEXT NOT NULL
) STRICT;

CREATE TABLE tags (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  tag     TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
) STRICT;
CREATE INDEX tags_tag ON tags(tag);
`;

export const MIGRATIONS: readonly Migration[] = [
  (db) => {
    db.exec(V1);
    db.pragma(`application_id = ${APPLICATION_ID}`);
  },
  // A sweep looks its points up by experiment hash (and model version) on every start:
  // without an index that is a scan of every run.
  (db) => db.exec('CREATE INDEX runs_point ON runs(experiment_hash, model_version, status)'),
  // A run's component timeline, when it recorded one: runs stored before have no row here.
  (db) =>
    db.exec(`
CREATE TABLE timelines (
  run_id         INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  max_intervals  INTEGER NOT NULL,
  tracks_json    TEXT NOT NULL           -- TimelineTrack[]: column arrays of numbers per component
) STRICT;`),
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Tables holding a run's rows besides `runs` itself, with the columns to copy. */
export const RUN_CHILD_TABLES: ReadonlyArray<{ table: string; columns: readonly string[] }> = [
  { table: 'metrics', columns: ['name', 'value', 'unit'] },
  { table: 'series', columns: ['name', 'unit', 'interval_ns', 'values_f64'] },
  { table: 'histograms', columns: ['name', 'unit', 'json'] },
  { table: 'attribution', columns: ['agent', 'contexts', 'total_ns', 'category', 'ns'] },
  { table: 'results_extra', columns: ['experiment_name', 'ops_json', 'snapshots_json'] },
  { table: 'timelines', columns: ['max_intervals', 'tracks_json'] },
  { table: 'tags', columns: ['tag'] },
];

export interface OpenOptions {
  /** Open an existing file without writing to it (no migration, no WAL switch). */
  readonly?: boolean;
  /** For tests of the migration machinery; the product always uses MIGRATIONS. */
  migrations?: readonly Migration[];
}

/**
 * Opens (creating if absent, unless read-only) a workbench database and brings its
 * schema up to date. Throws an Error that names the file and what would be valid.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  const migrations = options.migrations ?? MIGRATIONS;
  if (options.readonly && !existsSync(path)) {
    throw new Error(`${path} does not exist; give the path of a Hetmem Workbench database (.sqlite)`);
  }
  let db: Db;
  try {
    db = new Database(path, { readonly: !!options.readonly, fileMustExist: !!options.readonly });
  } catch (e) {
    throw storeAccessError(path, e, `${path} cannot be opened as a database: ${(e as Error).message}`);
  }
  try {
    checkIsOurs(db, path, migrations.length);
    if (!options.readonly) {
      // WAL: readers (the UI listing runs) never block the writer finishing a run.
      // synchronous=NORMAL in WAL keeps the file consistent on any crash; a power cut
      // can lose the last commits, which a rerun of the experiment recreates.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    if (!options.readonly) migrate(db, migrations);
    return db;
  } catch (e) {
    db.close();
    throw storeAccessError(path, e);
  }
}

/**
 * A database another program holds locked, or one this process may not write, said
 * plainly with what to do; `fallback` (default `e` itself) for any other error.
 */
export function storeAccessError(path: string, e: unknown, fallback?: string): Error {
  const code = String((e as { code?: unknown } | null)?.code ?? '');
  const why = (e as Error).message;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new Error(
      `${path} is locked: another program is writing to it (${why}); nothing was changed. Wait until it is done, or close it (another hetmem, the app, an sqlite3 shell), and try again`,
    );
  }
  if (code.startsWith('SQLITE_READONLY') || (code === 'SQLITE_CANTOPEN' && existsSync(path))) {
    return new Error(
      `${path} is read-only here (${why}); nothing was changed. Give a database in a place you may write (a copy will do); commands that only read it (runs, show, compare, export) work as it is`,
    );
  }
  return fallback === undefined && e instanceof Error ? e : new Error(fallback ?? why);
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Runs the migrations that `db` lacks, each in its own transaction with its version bump. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): void {
  // The version is read inside an IMMEDIATE (write-locked) transaction, so two processes
  // opening the same old file at once cannot both run the same migration.
  const step = db.transaction(() => {
    const v = schemaVersion(db);
    if (v >= migrations.length) return false;
    migrations[v](db);
    db.pragma(`user_version = ${v + 1}`);
    return true;
  });
  while (step.immediate()) {
    // one migration per transaction
  }
}

function checkIsOurs(db: Db, path: string, known: number): void {
  let version: number;
  let appId: number;
  let tables: string[];
  try {
    version = schemaVersion(db);
    appId = db.pragma('application_id', { simple: true }) as number;
    tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map(
      (r) => r.name,
    );
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new Error(
        `${path} is not an SQLite database (${(e as Error).message}); give a .sqlite file written by Hetmem Workbench, or a new file name to create one`,
      );
    }
    throw storeAccessError(path, e, `${path} cannot be read: ${(e as Error).message}`);
  }
  const empty = version === 0 && appId === 0 && tables.length === 0;
  if (!empty && appId !== APPLICATION_ID) {
    const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', ...' : '');
    throw new Error(
      `${path} is an SQLite database but not a Hetmem Workbench one (application_id ${appId}, tables: ${shown || 'none'}); give a file written by Hetmem Workbench, or a new file name to create one`,
    );
  }
  if (version > known) {
    throw new Error(
      `${path} was written by a newer Hetmem Workbench (schema ${version}; this version reads up to ${known}); update Hetmem Workbench to open it`,
    );
  }
}

/**
 * Opens a database only to read it, whatever schema version up to ours it has, and
 * never changes the file or creates anything beside it (it works on read-only media):
 *
 * - a 0-byte or missing file is refused, not turned into a database;
 * - a file in WAL mode with no -wal beside it (every export, any closed store) is read
 *   into memory: opening it in place, even read-only, would create -wal and -shm files;
 * - an older schema is migrated in memory, so queries written for the current schema
 *   work.
 *
 * The caller closes the result.
 */
export function openForReading(path: string, migrations: readonly Migration[] = MIGRATIONS): Db {
  const header = readHeader(path);
  const inMemory = header[18] === 2 && !existsSync(`${path}-wal`);
  let db = inMemory ? imageDatabase(readFileSync(path), path) : openDatabase(path, { readonly: true, migrations });
  if (inMemory) {
    try {
      checkIsOurs(db, path, migrations.length);
    } catch (e) {
      db.close();
      throw e;
    }
  }
  const version = schemaVersion(db);
  if (version === migrations.length) return queryOnly(db);
  if (version === 0) {
    db.close();
    throw new Error(`${path} is an empty database with no Hetmem Workbench data; give a file that holds runs`);
  }
  if (!inMemory) {
    const image = db.serialize();
    db.close();
    db = imageDatabase(image, path);
  }
  try {
    migrate(db, migrations);
    return queryOnly(db);
  } catch (e) {
    db.close();
    throw e;
  }
}

/** An in-memory copy is writable; make any write an error, as it would be on the file. */
function queryOnly(db: Db): Db {
  db.pragma('query_only = ON');
  return db;
}

/** The first 100 bytes of an SQLite file (its header); refuses anything that is not one. */
function readHeader(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code})`;
    throw new Error(`${path} ${why}; give the path of a Hetmem Workbench database (.sqlite)`);
  }
  try {
    const header = Buffer.alloc(100);
    const n = readSync(fd, header, 0, 100, 0);
    if (n === 0) {
      throw new Error(
        `${path} is empty (0 bytes), not a Hetmem Workbench database; give a file that holds runs (reading commands never create one)`,
      );
    }
    if (n < 100 || header.toString('latin1', 0, 16) !== 'SQLite format 3\0') {
      throw new Error(
        `${path} is not an SQLite database (no SQLite header); give a .sqlite file written by Hetmem Workbench`,
      );
    }
    return header;
  } finally {
    closeSync(fd);
  }
}

/** An in-memory copy of a database image (a file's bytes or a serialization), foreign keys on. */
function imageDatabase(image: Buffer, path: string): Db {
  // Bytes 18-19 of the header say "WAL mode" (2) for our files, and an in-memory
  // database cannot use a WAL: mark the image as rollback-journal (1) first.
  image[18] = 1;
  image[19] = 1;
  let db: Db;
  try {
    db = new Database(image);
  } catch (e) {
    throw new Error(`${path} cannot be opened as a database: ${(e as Error).message}`);
  }
  db.pragma('foreign_keys = ON');
  return db;
}
