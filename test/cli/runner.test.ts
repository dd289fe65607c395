/**
 * The runner service in-process (the worker it starts is the compiled one in dist/), the
 * trace-file reader, and the JSON text parser behind the CLI's syntax errors.
 */
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExampleExperiments, loadHardwarePresets, loadPresetMap } from '../../src/main/services/presets.js';
import { openTraceFile } from '../../src/main/services/runner/trace-file.js';
import { parseJsonText, runExperiment, type RunStore } from '../../src/main/services/runner/index.js';
import { Store } from '../../src/main/services/store/store.js';
import type { Progress } from '../../src/sim/result/types.js';
import { ensureBuilt, ROOT, tempFolder, tinyExperiment } from './helpers.js';

const tmp = tempFolder();
beforeAll(ensureBuilt);
afterAll(tmp.remove);

describe('runExperiment', () => {
  it('an invalid experiment is answered without touching the store', async () => {
    let opened = false;
    const outcome = await runExperiment(
      () => {
        opened = true;
        throw new Error('must not open');
      },
      JSON.stringify(tinyExperiment({ hardware: { preset: 'gpu-pcie4-hbm2', link: { lanes: 3 } } })),
    );
    expect(opened).toBe(false);
    expect(outcome.status).toBe('invalid');
    if (outcome.status === 'invalid') expect(outcome.issues[0].path).toBe('hardware.link.lanes');
  });

  it('runs in a worker, streams progress, and stores the result', async () => {
    const store = Store.open(join(tmp.dir, 'r.sqlite'));
    try {
      const progress: Progress[] = [];
      const doc = { ...tinyExperiment(), workload: { impl: 'gather', tableBytes: '64MiB', accesses: 200000 } };
      const outcome = await runExperiment(store, JSON.stringify(doc), {
        seed: 4,
        onProgress: (p) => progress.push(p),
        progressIntervalMs: 0,
      });
      expect(outcome.status).toBe('done');
      if (outcome.status !== 'done') return;
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.at(-1)!.simTimeNs).toBeGreaterThan(0);
      const run = store.getRun(outcome.runId);
      expect(run).toMatchObject({ status: 'done', seed: 4, workload: 'gather' });
      expect(run.result?.metrics['sim.time_ns']).toEqual(outcome.result.metrics['sim.time_ns']);
    } finally {
      store.close();
    }
  });

  it('an abort terminates the worker and records the run as cancelled', async () => {
    const calls: string[] = [];
    const store: RunStore = {
      beginRun: () => 7,
      finishRun: () => calls.push('finish'),
      failRun: (id, status, error) => calls.push(`${id} ${status} ${error}`),
      revokeResult: () => calls.push('revoke'),
    };
    const abort = new AbortController();
    const doc = { ...tinyExperiment(), workload: { impl: 'gather', tableBytes: '1GiB', accesses: 1e9 } };
    const started = Date.now();
    const outcome = await runExperiment(store, JSON.stringify(doc), {
      signal: abort.signal,
      progressIntervalMs: 0,
      onProgress: () => abort.abort(),
    });
    expect(outcome).toMatchObject({ status: 'cancelled', runId: 7 });
    expect(calls).toEqual(['7 cancelled cancelled by the user']);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a workload that breaks while running is recorded as failed with its message', async () => {
    const calls: string[] = [];
    const store: RunStore = {
      beginRun: () => 1,
      finishRun: () => calls.push('finish'),
      failRun: (_id, status, error) => calls.push(`${status}: ${error}`),
      revokeResult: () => calls.push('revoke'),
    };
    tmp.write('t/x.trace', '# comment\nR 64\nW nonsense\n');
    const doc = { ...tinyExperiment(), workload: { impl: 'trace', path: 'x.trace', regionBytes: '1MiB' } };
    const outcome = await runExperiment(store, JSON.stringify(doc), { baseDir: `${tmp.dir}/t` });
    expect(outcome.status).toBe('failed');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^failed: .*x\.trace line 3: "W nonsense"/);
  });
});

describe('Ctrl-C while the result is being stored', () => {
  it('still cancels: the run ends cancelled with no result rows', () => {
    const db = join(tmp.dir, 'sigint.sqlite');
    const file = tmp.write('sigint.json', tinyExperiment());
    const child = join(ROOT, 'dist', 'src', 'main', 'services', 'runner', 'sigint-child.js');
    const r = spawnSync(process.execPath, [child, db, file], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ status: 'cancelled', runId: 1 });
    const store = Store.open(db);
    try {
      expect(store.getRun(1)).toMatchObject({ status: 'cancelled', error: 'cancelled by the user', result: null });
      expect(store.db.prepare('SELECT count(*) FROM metrics').pluck().get()).toBe(0);
    } finally {
      store.close();
    }
  });
});

describe('openTraceFile', () => {
  it('reads in chunks and never splits a UTF-8 character', () => {
    const text = 'é€𝄞 '.repeat(50) + '\nLD 0x40 # ünïcode\n';
    const path = tmp.write('u.trace', text);
    for (const chunk of [1, 2, 3, 5, 7, 1 << 20]) {
      const f = openTraceFile(path, chunk);
      const parts: string[] = [];
      for (let c = f.readChunk(); c !== null; c = f.readChunk()) parts.push(c);
      expect(parts.join('')).toBe(text);
      expect(parts.every((p) => !/\uFFFD/.test(p))).toBe(true);
      expect(f.readChunk()).toBeNull();
      expect(f.fractionRead?.()).toBe(1);
      f.close();
    }
    expect(Buffer.byteLength(text)).toBeGreaterThan(text.length);
  });
});

describe('parseJsonText', () => {
  it.each([
    ['{"a": 1,}', 1, 8, /trailing comma/],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, /expected ',' or '}' after a property value/],
    ["{'a': 1}", 1, 2, /double quotes/],
    ['{"a": tru}', 1, 7, /expected a value/],
    ['{"a": "x\ny"}', 1, 9, /line break .* inside a string/],
    ['{"a": 1', 1, 8, /expected ',' or '}'.*end of the text/],
    ['', 1, 1, /end of the text/],
    ['{} {}', 1, 4, /after the end of the document/],
  ])('%j: line %i, column %i', (text, line, column, message) => {
    const r = parseJsonText(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect([r.error.line, r.error.column]).toEqual([line, column]);
    expect(r.error.message).toMatch(message);
  });

  it('accepts comments, as the editor does (both read with jsonc-parser)', () => {
    const text = '{\n  // the link\n  "a": /* lanes */ 8, "b": "// not a comment"\n}\n';
    expect(parseJsonText(text)).toEqual({ ok: true, value: { a: 8, b: '// not a comment' } });
    const r = parseJsonText('{"a": 1 /* open');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ line: 1, column: 9, message: expect.stringMatching(/not closed/) });
  });

  it('accepts a byte order mark', () => {
    expect(parseJsonText('\uFEFF{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
  });
});

describe('presets', () => {
  it('loads the hardware presets with their descriptions and the example experiments', () => {
    const presets = loadHardwarePresets();
    expect(presets.map((p) => p.name)).toEqual(
      expect.arrayContaining(['gpu-pcie4-hbm2', 'accel-pcie5-ats', 'cxl-coherent', 'npu-64k-pages']),
    );
    for (const p of presets) expect(p.description.length, p.name).toBeGreaterThan(0);
    expect(Object.keys(loadPresetMap())).toEqual(presets.map((p) => p.name));
    expect(loadExampleExperiments().length).toBeGreaterThan(0);
  });
});
