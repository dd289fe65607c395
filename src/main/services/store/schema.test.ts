import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APPLICATION_ID,
  MIGRATIONS,
  SCHEMA_VERSION,
  openDatabase,
  openForReading,
  schemaVersion,
  type Migration,
} from './schema.js';
import { DONE_RUNS_BY_HASH } from './points.js';
import { writeResultRows } from './result-rows.js';
import { Store } from './store.js';
import { experiment, meta, sampleResult, tempDir } from './test-fixtures.js';

let tmp: ReturnType<typeof tempDir>;

/** Run 1 of experiment 1, written as an older release would, with SQL that every schema version takes. */
function insertRun(db: Database.Database, status: string): void {
  db.exec(`INSERT INTO experiments (name, hash, json, created_at) VALUES ('e', 'h', '{}', '2026-01-01T00:00:00Z')`);
  db.prepare(
    `INSERT INTO runs (uuid, experiment_id, experiment_hash, name, seed, model_version, strategy, workload, status, started_at)
     VALUES ('u', 1, 'h', 'e', 7, '0.1.0', 'hmm-mirror', 'stream', ?, '2026-01-01T00:00:00Z')`,
  ).run(status);
}
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.remove());

describe('schema', () => {
  it('creates the current version with WAL, foreign keys, synchronous NORMAL and every table', () => {
    const db = openDatabase(tmp.file('a.sqlite'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all();
    expect(tables).toEqual(
      expect.arrayContaining([
        'attribution',
        'experiments',
        'histograms',
        'metrics',
        'results_extra',
        'runs',
        'series',
        'tags',
      ]),
    );
    db.close();
  });

  it('reopens an up-to-date file without migrating again', () => {
    openDatabase(tmp.file('a.sqlite')).close();
    const db = openDatabase(tmp.file('a.sqlite'));
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('refuses a file written by a newer version, naming both versions', () => {
    const path = tmp.file('new.sqlite');
    const db = openDatabase(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openDatabase(path)).toThrow(
      `${path} was written by a newer Hetmem Workbench (schema ${SCHEMA_VERSION + 1}; this version reads up to ${SCHEMA_VERSION}); update Hetmem Workbench to open it`,
    );
  });

  it('refuses a file that is not SQLite', () => {
    const path = tmp.file('notes.sqlite');
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(200));
    expect(() => openDatabase(path)).toThrow(
      /notes\.sqlite is not an SQLite database .*give a \.sqlite file written by Hetmem Workbench/,
    );
    expect(readFileSync(path, 'utf8')).toContain('my notes'); // untouched
  });

  it("refuses another application's SQLite database instead of adding tables to it", () => {
    const path = tmp.file('other.sqlite');
    const other = new Database(path);
    other.exec('CREATE TABLE moz_places (id INTEGER)');
    other.close();
    expect(() => openDatabase(path)).toThrow(
      /other\.sqlite is an SQLite database but not a Hetmem Workbench one .*moz_places/,
    );
  });

  it('runs forward migrations in order and records the version', () => {
    const path = tmp.file('old.sqlite');
    openDatabase(path).close();
    const v2: Migration = (db) => db.exec('ALTER TABLE runs ADD COLUMN host TEXT');
    const db = openDatabase(path, { migrations: [...MIGRATIONS, v2] });
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION + 1);
    expect(db.prepare('SELECT host FROM runs').all()).toEqual([]);
    db.close();
  });

  it('a failing migration leaves the file at its previous version', () => {
    const path = tmp.file('old.sqlite');
    openDatabase(path).close();
    const bad: Migration = (db) => {
      db.exec('ALTER TABLE runs ADD COLUMN host TEXT');
      throw new Error('boom');
    };
    expect(() => openDatabase(path, { migrations: [...MIGRATIONS, bad] })).toThrow('boom');
    const db = openDatabase(path);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(() => db.prepare('SELECT host FROM runs').all()).toThrow(/no such column/);
    db.close();
  });

  it('openForReading migrates an older file in memory and leaves the file as it was', () => {
    const path = tmp.file('old.sqlite');
    openDatabase(path).close();
    const before = readFileSync(path);
    const v2: Migration = (db) => db.exec('ALTER TABLE runs ADD COLUMN host TEXT');
    const db = openForReading(path, [...MIGRATIONS, v2]);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION + 1);
    db.close();
    expect(readFileSync(path).equals(before)).toBe(true);
    const again = openDatabase(path, { readonly: true });
    expect(schemaVersion(again)).toBe(SCHEMA_VERSION);
    again.close();
  });

  it('gives a version-2 database the timelines table; its runs read back with no timeline', () => {
    const path = tmp.file('v2.sqlite');
    const v2 = openDatabase(path, { migrations: MIGRATIONS.slice(0, 2) });
    insertRun(v2, 'done');
    const { timeline: _, ...old } = sampleResult();
    writeResultRows((sql) => v2.prepare(sql), 1, old);
    v2.close();

    const store = Store.open(path);
    expect(schemaVersion(store.db)).toBe(SCHEMA_VERSION);
    expect(store.getRun(1).result).toEqual(old);
    expect(store.getTimeline(1)).toBeNull();
    const next = store.beginRun(experiment(), meta());
    store.finishRun(next, sampleResult(), 1);
    expect(store.getTimeline(next)).toEqual(sampleResult().timeline);
    store.close();
  });

  it('gives a version-1 database the index that sweeps look points up by, keeping its runs', () => {
    const path = tmp.file('v1.sqlite');
    const v1 = openDatabase(path, { migrations: MIGRATIONS.slice(0, 1) });
    insertRun(v1, 'failed');
    const indexes = (db: Database.Database) =>
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs'`).pluck().all();
    expect(indexes(v1)).not.toContain('runs_point');
    v1.close();

    const db = openDatabase(path);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(indexes(db)).toContain('runs_point');
    expect(db.prepare('SELECT uuid FROM runs').pluck().all()).toEqual(['u']);
    // The sweep's lookup searches it rather than scanning the runs.
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${DONE_RUNS_BY_HASH}`).all('0.2.0', '["h"]') as { detail: string }[];
    expect(plan.map((r) => r.detail).join('\n')).toMatch(
      /SEARCH runs USING (COVERING )?INDEX runs_point \(experiment_hash=\? AND model_version=\? AND status=\?\)/,
    );
    db.close();
  });

  it('openForReading refuses a missing file and an empty database', () => {
    expect(() => openForReading(tmp.file('missing.sqlite'))).toThrow(/missing\.sqlite does not exist/);
    new Database(tmp.file('empty.sqlite')).close();
    expect(() => openForReading(tmp.file('empty.sqlite'))).toThrow(/empty\.sqlite is empty \(0 bytes\)/);
  });
});
