import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportRunsToCsv, exportRunsToJson, exportRunsToSqlite } from './export.js';
import { Store } from './store.js';
import { experiment, meta, sampleResult, tempDir } from './test-fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let store: Store;
let path: string;
let ids: { a: number; b: number; c: number; failed: number };
beforeEach(() => {
  tmp = tempDir();
  path = tmp.file('hetmem.sqlite');
  store = Store.open(path);
  const a = store.beginRun(experiment('e1'), meta({ name: 'a' }));
  const b = store.beginRun(experiment('e2'), meta({ name: 'b, "quoted"\nname' }));
  const c = store.beginRun(experiment('e3'), meta({ name: 'c' }));
  const failed = store.beginRun(experiment('e1'), meta({ name: 'f' }));
  store.finishRun(a, sampleResult('a'), 1);
  store.finishRun(b, sampleResult('b'), 2);
  store.finishRun(c, sampleResult('c'), 3);
  store.failRun(failed, 'failed', 'EPERM', 4);
  ids = { a, b, c, failed };
});
afterEach(() => {
  store.close();
  tmp.remove();
});

describe('exportRunsToSqlite', () => {
  it('writes only the chosen runs and their experiments, with the same ids', () => {
    const out = tmp.file('subset.sqlite');
    exportRunsToSqlite(store, [ids.a, ids.failed], out);
    const sub = Store.open(out);
    expect(sub.listRuns().map((r) => r.id)).toEqual([ids.a, ids.failed]);
    expect(sub.db.prepare('SELECT count(*) FROM experiments').pluck().get()).toBe(1); // e1 only
    const original = store.getRun(ids.a);
    expect(sub.getRun(ids.a)).toEqual(original);
    expect(sub.getRun(ids.failed)).toEqual(store.getRun(ids.failed));
    expect(sub.db.pragma('integrity_check', { simple: true })).toBe('ok');
    sub.close();
  });

  it('leaves one self-contained file and no temporary files', () => {
    const out = tmp.file('subset.sqlite');
    exportRunsToSqlite(store, [ids.a], out);
    expect(readdirSync(tmp.dir).filter((f) => f.startsWith('subset') || f.startsWith('.subset'))).toEqual([
      'subset.sqlite',
    ]);
  });

  it('refuses to overwrite an existing file unless asked to', () => {
    const out = tmp.file('taken.sqlite');
    writeFileSync(out, 'keep me');
    expect(() => exportRunsToSqlite(store, [ids.a], out)).toThrow(
      `${out} already exists; choose a new file name, or pass { overwrite: true } (--overwrite) to replace it`,
    );
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    writeFileSync(out + '-journal', 'a stale journal that would be replayed into the new file');
    exportRunsToSqlite(store, [ids.b], out, { overwrite: true });
    expect(existsSync(out + '-journal')).toBe(false);
    const sub = Store.open(out);
    expect(sub.listRuns().map((r) => r.name)).toEqual(['b, "quoted"\nname']);
    sub.close();
  });

  it('refuses to overwrite the store itself', () => {
    expect(() => exportRunsToSqlite(store, [ids.a], path, { overwrite: true })).toThrow(/is the store being exported/);
  });

  it('a failure leaves neither the output nor a temporary file', () => {
    const out = tmp.file('a-folder');
    mkdirSync(out);
    writeFileSync(`${out}/inside`, 'x'); // a non-empty folder: the final rename must fail
    expect(() => exportRunsToSqlite(store, [ids.a], out, { overwrite: true })).toThrow(
      /exporting to .*a-folder failed, nothing was written/,
    );
    expect(readdirSync(tmp.dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(() => exportRunsToSqlite(store, [ids.a], tmp.file('no/such/dir/x.sqlite'))).toThrow(
      /failed, nothing was written/,
    );
  });

  it('names unknown runs and how to list them', () => {
    expect(() => exportRunsToSqlite(store, [ids.a, 77], tmp.file('x.sqlite'))).toThrow(
      `run 77 does not exist in ${path}; \`hetmem runs --db ${path}\` lists the runs`,
    );
    expect(existsSync(tmp.file('x.sqlite'))).toBe(false);
  });

  it('refuses a run that is still running', () => {
    const r = store.beginRun(experiment(), meta());
    expect(() => exportRunsToSqlite(store, [r], tmp.file('x.sqlite'))).toThrow(
      `run ${r} is still running in ${path}; wait for the run to end or cancel it, then export`,
    );
  });
});

describe('exportRunsToCsv', () => {
  it('writes one RFC 4180 row per run and metric', () => {
    const csv = exportRunsToCsv(store, [ids.b, ids.failed]);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('run_id,run_name,strategy,workload,seed,status,metric,value,unit');
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv).toContain(`${ids.b},"b, ""quoted""\nname",hmm-mirror,stream,7,done,link.h2d_bytes,1073741824,B\r\n`);
    expect(csv).toContain(
      `${ids.b},"b, ""quoted""\nname",hmm-mirror,stream,7,done,a.before_b,0.30000000000000004,ratio\r\n`,
    );
    expect(csv).toContain(`,nan.metric,NaN,ns\r\n`);
    expect(csv).toContain(`${ids.failed},f,hmm-mirror,stream,7,failed,,,\r\n`);
    // header + 6 metrics of b + one row for the failed run + the empty string after the last CRLF
    expect(lines).toHaveLength(1 + 6 + 1 + 1);
  });

  it('names unknown runs', () => {
    expect(() => exportRunsToCsv(store, [5, 6])).toThrow(/^runs 5, 6 do not exist in .*lists the runs$/);
  });
});

describe('exportRunsToJson', () => {
  it('writes { run, experiment, result } for each run in the order asked', () => {
    const docs = JSON.parse(exportRunsToJson(store, [ids.c, ids.failed]));
    expect(docs).toHaveLength(2);
    expect(docs[0].run).toMatchObject({ id: ids.c, name: 'c', status: 'done' });
    expect(docs[0].run.experimentJson).toBeUndefined();
    expect(docs[0].experiment).toEqual(JSON.parse(experiment('e3')));
    expect(docs[0].result.metrics['link.h2d_bytes']).toEqual({ value: 1 << 30, unit: 'B' });
    expect(docs[0].result.experimentName).toBe('gpu-stream-c');
    expect(docs[1].result).toBeNull();
    expect(docs[1].run.error).toBe('EPERM');
  });

  it('names unknown runs', () => {
    expect(() => exportRunsToJson(store, [99])).toThrow(/^run 99 does not exist/);
  });
});
