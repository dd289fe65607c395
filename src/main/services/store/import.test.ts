import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportRunsToSqlite } from './export.js';
import { importDatabase } from './import.js';
import { openDatabase, SCHEMA_VERSION } from './schema.js';
import { Store } from './store.js';
import { experiment, meta, sampleResult, tempDir } from './test-fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let here: Store;
let there: Store;
beforeEach(() => {
  tmp = tempDir();
  here = Store.open(tmp.file('here.sqlite'));
  there = Store.open(tmp.file('there.sqlite'));
});
afterEach(() => {
  here.close();
  there.close();
  tmp.remove();
});

function withRuns(store: Store, names: string[], exp = experiment()): number[] {
  return names.map((name) => {
    const id = store.beginRun(exp, meta({ name }));
    store.finishRun(id, sampleResult(name), 1);
    return id;
  });
}

describe('importDatabase', () => {
  it('merges runs with new ids, dedupes experiments by hash, and keeps results exact', () => {
    withRuns(here, ['h1', 'h2']);
    const [t1, t2] = withRuns(there, ['t1', 't2']); // same experiment as here's
    there.addTags(t1, ['from-there']);
    there.close();

    expect(importDatabase(here, tmp.file('there.sqlite'))).toEqual({ imported: 2, skipped: 0 });
    const runs = here.listRuns();
    expect(runs.map((r) => r.name)).toEqual(['h1', 'h2', 't1', 't2']);
    expect(new Set(runs.map((r) => r.experimentId)).size).toBe(1);
    expect(here.db.prepare('SELECT count(*) FROM experiments').pluck().get()).toBe(1);

    there = Store.open(tmp.file('there.sqlite'));
    for (const [theirId, ourId] of [
      [t1, runs[2].id],
      [t2, runs[3].id],
    ]) {
      const { id: _a, experimentId: _b, ...theirs } = there.getRun(theirId);
      const { id: _c, experimentId: _d, ...ours } = here.getRun(ourId);
      expect(ours).toEqual(theirs);
    }
    expect(here.getRun(runs[2].id).tags).toEqual(['from-there']);
  });

  it('imports nothing the second time, nor runs that came from here', () => {
    withRuns(there, ['t1']);
    const [h1] = withRuns(here, ['h1']);
    exportRunsToSqlite(here, [h1], tmp.file('mine.sqlite'));
    expect(importDatabase(here, tmp.file('there.sqlite'))).toEqual({ imported: 1, skipped: 0 });
    expect(importDatabase(here, tmp.file('there.sqlite'))).toEqual({ imported: 0, skipped: 1 });
    expect(importDatabase(here, tmp.file('mine.sqlite'))).toEqual({ imported: 0, skipped: 1 });
    expect(here.listRuns()).toHaveLength(2);
  });

  it('skips runs still running in the other database', () => {
    there.beginRun(experiment(), meta({ name: 'still going' }));
    withRuns(there, ['t1']);
    expect(importDatabase(here, tmp.file('there.sqlite'))).toEqual({ imported: 1, skipped: 1 });
  });

  it('does not change the file it reads', () => {
    withRuns(there, ['t1']);
    there.close();
    const before = readFileSync(tmp.file('there.sqlite'));
    importDatabase(here, tmp.file('there.sqlite'));
    expect(readFileSync(tmp.file('there.sqlite')).equals(before)).toBe(true);
    there = Store.open(tmp.file('there.sqlite'));
  });

  it('is all or nothing', () => {
    const [, t2] = withRuns(there, ['t1', 't2']);
    there.addTags(t2, ['x']);
    // The target refuses tag rows, so the import fails on the second run, after the
    // first run and the experiment were already copied inside the transaction.
    here.db.exec(
      `CREATE TEMP TRIGGER refuse BEFORE INSERT ON main.tags BEGIN SELECT RAISE(ABORT, 'refused by test'); END`,
    );
    expect(() => importDatabase(here, tmp.file('there.sqlite'))).toThrow(
      /importing .*there\.sqlite into .*here\.sqlite failed, nothing was imported: refused by test/,
    );
    expect(here.listRuns()).toEqual([]);
    expect(here.db.prepare('SELECT count(*) FROM experiments').pluck().get()).toBe(0);
    expect(here.db.prepare('SELECT count(*) FROM metrics').pluck().get()).toBe(0);
  });

  it('refuses itself, newer files and files that are not databases', () => {
    expect(() => importDatabase(here, tmp.file('here.sqlite'))).toThrow(/here\.sqlite is the store itself/);
    const newer = openDatabase(tmp.file('newer.sqlite'));
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();
    expect(() => importDatabase(here, tmp.file('newer.sqlite'))).toThrow(
      new RegExp(
        `was written by a newer Hetmem Workbench \\(schema ${SCHEMA_VERSION + 1}; this version reads up to ${SCHEMA_VERSION}\\)`,
      ),
    );
    expect(() => importDatabase(here, tmp.file('none.sqlite'))).toThrow(/none\.sqlite does not exist/);
  });
});
