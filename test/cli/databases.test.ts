/**
 * No command loses or corrupts a database: real files in a temporary folder, made
 * read-only, damaged, emptied or crafted, fed to the real binary.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, openSync, readFileSync, statSync, symlinkSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/main/services/store/store.js';
import { experiment, meta, sampleResult } from '../../src/main/services/store/test-fixtures.js';
import { dbFiles, ensureBuilt, hetmem, hetmemUnprivileged, tempFolder, tinyExperiment } from './helpers.js';

const tmp = tempFolder();
beforeAll(ensureBuilt);
afterAll(() => {
  chmodAll(0o755);
  tmp.remove();
});

let folders = 0;
/** A fresh folder holding `name`, a closed database with `runs` done runs. */
function dbWithRuns(name = 'runs.sqlite', runs = 2): { dir: string; db: string } {
  const dir = join(tmp.dir, `case-${++folders}`);
  tmp.write(join(`case-${folders}`, '.keep'), '');
  const db = join(dir, name);
  const store = Store.open(db);
  for (let i = 0; i < runs; i++)
    store.finishRun(store.beginRun(experiment(), meta({ name: `r${i}` })), sampleResult(), 1);
  store.close();
  return { dir, db };
}

function chmodAll(mode: number): void {
  for (let i = 1; i <= folders; i++)
    if (existsSync(join(tmp.dir, `case-${i}`))) chmodSync(join(tmp.dir, `case-${i}`), mode);
}

const snapshot = (path: string) => readFileSync(path).toString('base64');

describe('export never writes over the database it reads', () => {
  for (const ext of ['.sqlite', '.csv', '.json']) {
    it(`refuses --out equal to --db (${ext}, also through a symlink), even with --overwrite`, () => {
      const { dir } = dbWithRuns(`data${ext}`);
      const before = snapshot(join(dir, `data${ext}`));
      const same = hetmem(dir, 'export', '--db', `data${ext}`, '--runs', '1', '--out', `data${ext}`, '--overwrite');
      expect(same.code).toBe(2);
      expect(same.stderr).toMatch(/--out: data\.\w+ is the database being read \(--db\)/);
      symlinkSync(join(dir, `data${ext}`), join(dir, `alias${ext}`));
      const alias = hetmem(dir, 'export', '--db', `data${ext}`, '--runs', '1', '--out', `alias${ext}`, '--overwrite');
      expect(alias.code).toBe(2);
      expect(snapshot(join(dir, `data${ext}`))).toBe(before);
    });
  }
});

describe('--db must name a file', () => {
  for (const db of ['', ':memory:']) {
    it(`refuses --db ${JSON.stringify(db)} for run and runs`, () => {
      const dir = join(tmp.dir, `case-${++folders}`);
      const file = tmp.write(join(`case-${folders}`, 'e.json'), {
        name: 'tiny',
        hardware: { preset: 'gpu-pcie4-hbm2' },
        strategy: { impl: 'hmm-mirror' },
        workload: { impl: 'stream', arrayBytes: '64KiB', iterations: 1 },
      });
      const run = hetmem(dir, 'run', file, '--db', db);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--db: .* is not a file name/);
      expect(hetmem(dir, 'runs', '--db', db).code).toBe(2);
    });
  }
});

describe('reading commands never change the file they read', () => {
  it('runs and export leave an exported (rollback-journal) database byte for byte, with no sidecars', () => {
    const { dir } = dbWithRuns('src.sqlite');
    expect(hetmem(dir, 'export', '--db', 'src.sqlite', '--runs', '1-2', '--out', 'out.sqlite').code).toBe(0);
    const before = snapshot(join(dir, 'out.sqlite'));
    expect(hetmem(dir, 'runs', '--db', 'out.sqlite')).toMatchObject({ code: 0 });
    expect(hetmem(dir, 'export', '--db', 'out.sqlite', '--runs', '1', '--out', 'again.json').code).toBe(0);
    expect(snapshot(join(dir, 'out.sqlite'))).toBe(before);
    expect(dbFiles(dir).sort()).toEqual(['out.sqlite', 'src.sqlite']);
  });

  it('runs, export and import leave no -wal or -shm beside a closed WAL database', () => {
    const { dir } = dbWithRuns('wal.sqlite');
    const before = snapshot(join(dir, 'wal.sqlite'));
    expect(hetmem(dir, 'runs', '--db', 'wal.sqlite').code).toBe(0);
    expect(hetmem(dir, 'export', '--db', 'wal.sqlite', '--runs', '1', '--out', 'one.csv').code).toBe(0);
    expect(hetmem(dir, 'import', '--db', 'mine.sqlite', 'wal.sqlite').code).toBe(0);
    expect(snapshot(join(dir, 'wal.sqlite'))).toBe(before);
    expect(dbFiles(dir).filter((f) => f.startsWith('wal'))).toEqual(['wal.sqlite']);
  });

  it('work on a read-only file in a read-only folder', () => {
    const { dir } = dbWithRuns('ro.sqlite');
    const out = join(tmp.dir, `case-${++folders}`);
    tmp.write(join(`case-${folders}`, '.keep'), '');
    chmodSync(tmp.dir, 0o755); // mkdtemp makes it private to its owner
    chmodSync(out, 0o777);
    chmodSync(join(dir, 'ro.sqlite'), 0o444);
    chmodSync(dir, 0o555);
    try {
      expect(hetmemUnprivileged(dir, 'runs', '--db', 'ro.sqlite')).toMatchObject({ code: 0, stderr: '' });
      const exported = hetmemUnprivileged(
        dir,
        'export',
        '--db',
        'ro.sqlite',
        '--runs',
        '1',
        '--out',
        join(out, 'x.sqlite'),
      );
      expect(exported).toMatchObject({ code: 0, stderr: '' });
      const imported = hetmemUnprivileged(out, 'import', '--db', 'mine.sqlite', join(dir, 'ro.sqlite'));
      expect(imported).toMatchObject({ code: 0, stderr: '' });
      expect(imported.stdout).toMatch(/imported 2 runs/);
    } finally {
      chmodSync(dir, 0o755);
    }
    expect(dbFiles(dir)).toEqual(['ro.sqlite']);
  });
});

describe('databases that cannot be written', () => {
  it('a locked database: run and tag say so, name the file, exit 1, and change nothing', () => {
    const { dir, db } = dbWithRuns('locked.sqlite');
    tmp.write(join(`case-${folders}`, 'e.json'), tinyExperiment());
    const holder = new Database(db);
    holder.exec('BEGIN EXCLUSIVE'); // another program in the middle of writing
    const before = snapshot(db);
    try {
      for (const args of [
        ['run', 'e.json'],
        ['tag', '1', 'x'],
      ]) {
        const r = hetmem(dir, ...args, '--db', 'locked.sqlite');
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toMatch(
          /^hetmem: --db: locked\.sqlite is locked: another program is writing to it \(database is locked\); nothing was changed\. Wait until it is done, or close it/,
        );
      }
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(snapshot(db)).toBe(before);
    const store = Store.openReadOnly(db);
    expect(store.listRuns().map((r) => [r.name, r.tags])).toEqual([
      ['r0', []],
      ['r1', []],
    ]);
    store.close();
  }, 30_000);

  it('a read-only database: run and tag say so and change nothing; reading commands work', () => {
    const { dir, db } = dbWithRuns('ro-write.sqlite');
    tmp.write(join(`case-${folders}`, 'e.json'), tinyExperiment());
    chmodSync(tmp.dir, 0o755);
    chmodSync(db, 0o444);
    chmodSync(dir, 0o555);
    const before = snapshot(db);
    try {
      for (const args of [
        ['run', 'e.json'],
        ['tag', '1', 'x'],
      ]) {
        const r = hetmemUnprivileged(dir, ...args, '--db', 'ro-write.sqlite');
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toMatch(/^hetmem: --db: ro-write\.sqlite is read-only here \(.*\); nothing was changed\./);
      }
      expect(hetmemUnprivileged(dir, 'show', '1', '--db', 'ro-write.sqlite').code).toBe(0);
    } finally {
      chmodSync(dir, 0o755);
    }
    expect(snapshot(db)).toBe(before);
    expect(dbFiles(dir)).toEqual(['ro-write.sqlite']);
  });
});

/** Overwrites every page after the first (the schema) with garbage, keeping the size. */
function damagePages(path: string): void {
  const pageSize = new Database(path, { readonly: true }).pragma('page_size', { simple: true }) as number;
  const size = statSync(path).size;
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(size - pageSize, 0x5a), 0, size - pageSize, pageSize);
  closeSync(fd);
}

describe('damaged, empty and crafted databases', () => {
  it('a damaged page gives a clear message and exit 2 from runs, export and import, and nothing is created', () => {
    const { dir, db } = dbWithRuns('bad.sqlite');
    damagePages(db);
    const before = snapshot(db);
    for (const args of [
      ['runs', '--db', 'bad.sqlite'],
      ['export', '--db', 'bad.sqlite', '--runs', '1', '--out', 'x.json'],
    ]) {
      const r = hetmem(dir, ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^hetmem: --db: bad\.sqlite is damaged \(.*\); nothing was changed/);
      expect(r.stderr).not.toMatch(/--runs|\n {4}at /);
    }
    const imported = hetmem(dir, 'import', '--db', 'new.sqlite', 'bad.sqlite');
    expect(imported.code).toBe(2);
    expect(imported.stderr).toMatch(/bad\.sqlite .*damaged/);
    expect(snapshot(db)).toBe(before);
    expect(dbFiles(dir)).toEqual(['bad.sqlite']);
  });

  it('a 0-byte file stays 0 bytes: runs, export and import refuse it', () => {
    const dir = join(tmp.dir, `case-${++folders}`);
    const empty = tmp.write(join(`case-${folders}`, 'empty.sqlite'), '');
    for (const args of [
      ['runs', '--db', 'empty.sqlite'],
      ['export', '--db', 'empty.sqlite', '--runs', '1', '--out', 'x.csv'],
      ['import', '--db', 'new.sqlite', 'empty.sqlite'],
    ]) {
      const r = hetmem(dir, ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/empty\.sqlite is empty \(0 bytes\)/);
    }
    expect(statSync(empty).size).toBe(0);
    expect(dbFiles(dir)).toEqual(['empty.sqlite']);
  });

  it('import refuses a file whose experiment hash does not match its JSON, naming it, and creates nothing', () => {
    const { dir, db } = dbWithRuns('crafted.sqlite', 1);
    const raw = new Database(db);
    raw.prepare('UPDATE experiments SET json = ?').run(JSON.stringify({ name: 'foreign', seed: 1 }));
    raw.close();
    const r = hetmem(dir, 'import', '--db', 'mine.sqlite', 'crafted.sqlite');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/experiment 1 \("gpu-stream"\): its stored hash is not the hash of its JSON/);
    expect(dbFiles(dir)).toEqual(['crafted.sqlite']);
  });

  it('import refuses a done run without its result and a run whose experiment is missing, naming each run', () => {
    const { dir, db } = dbWithRuns('holes.sqlite', 2);
    const raw = new Database(db);
    raw.pragma('foreign_keys = OFF');
    raw.exec('DELETE FROM results_extra WHERE run_id = 1; UPDATE runs SET experiment_id = 99 WHERE id = 2');
    raw.close();
    const r = hetmem(dir, 'import', '--db', 'mine.sqlite', 'holes.sqlite');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run 1 \("r0", uuid [-\w]+\): marked done but its result is missing/);
    expect(r.stderr).toMatch(/run 2 \("r1", uuid [-\w]+\): its experiment does not exist in the file/);
    expect(dbFiles(dir)).toEqual(['holes.sqlite']);
  });

  it('import into an existing database refuses a bad row and leaves the target as it was', () => {
    const { dir, db } = dbWithRuns('bad-json.sqlite', 1);
    const target = dbWithRuns('target.sqlite', 1);
    const raw = new Database(db);
    raw.exec(`UPDATE histograms SET json = '{not json'`);
    raw.close();
    const before = snapshot(target.db);
    const r = hetmem(dir, 'import', '--db', target.db, 'bad-json.sqlite');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run 1 \("r0", uuid [-\w]+\): a result row holds text that is not JSON/);
    expect(snapshot(target.db)).toBe(before);
  });
});
