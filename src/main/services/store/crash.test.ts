/**
 * Crash safety with a real process: a child is SIGKILLed inside finishRun's transaction,
 * after every result row is written and before the commit. The file must come back
 * intact with no result rows, and the run must then be recovered as cancelled.
 *
 * The child is crash-child.ts bundled by Vite into one .mjs (a plain `node` cannot run
 * TypeScript here); better-sqlite3 stays external, imported by absolute URL so the
 * bundle runs from a temporary folder outside the project.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERRUPTED_ERROR, Store } from './store.js';
import { tempDir } from './test-fixtures.js';

const here = fileURLToPath(new URL('.', import.meta.url));
let tmp: ReturnType<typeof tempDir>;
let child: string;

beforeAll(async () => {
  tmp = tempDir();
  const sqliteUrl = pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href;
  await build({
    configFile: false,
    logLevel: 'warn',
    root: here,
    plugins: [
      {
        name: 'better-sqlite3-by-absolute-url',
        enforce: 'pre',
        resolveId: (id) => (id === 'better-sqlite3' ? { id: sqliteUrl, external: 'absolute' } : null),
      },
    ],
    build: {
      ssr: `${here}crash-child.ts`,
      outDir: tmp.file('bundle'),
      write: true,
      minify: false,
      rolldownOptions: { output: { format: 'es', entryFileNames: 'crash-child.mjs' } },
    },
  });
  child = tmp.file('bundle/crash-child.mjs');
});
afterAll(() => tmp?.remove());

/** Runs the child; resolves with its stdout once it exits, or once `until` shows up in stdout. */
function runChild(db: string, mode: 'pause' | 'finish', until?: string) {
  const proc = spawn(process.execPath, [child, db, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const seen = new Promise<string>((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      out += d;
      if (until && out.includes(until)) resolve(out);
    });
    void exited.then(({ code, signal }) =>
      until && !out.includes(until)
        ? reject(new Error(`child exited (${code ?? signal}) before "${until}": ${err}`))
        : resolve(out),
    );
  });
  return { proc, seen, exited, stderr: () => err };
}

describe('crash safety', () => {
  it('the child finishes a run when left alone (the control)', async () => {
    const db = tmp.file('control.sqlite');
    const c = runChild(db, 'finish');
    expect(await c.seen).toContain('DONE');
    expect((await c.exited).code).toBe(0);
    const store = Store.open(db);
    const [run] = store.listRuns();
    expect(run.status).toBe('done');
    expect(store.db.prepare('SELECT count(*) FROM metrics WHERE run_id = ?').pluck().get(run.id)).toBe(2000);
    store.close();
  });

  it('a SIGKILL inside finishRun leaves an intact file with no result rows', async () => {
    const db = tmp.file('killed.sqlite');
    const c = runChild(db, 'pause', 'PAUSED_IN_FINISH');
    const out = await c.seen;
    const runId = Number(/RUN (\d+)/.exec(out)![1]);
    // The uncommitted 8 MiB series did not fit the page cache, so frames reached the WAL.
    const walBytes = statSync(`${db}-wal`).size;
    c.proc.kill('SIGKILL');
    expect((await c.exited).signal).toBe('SIGKILL');

    const store = Store.open(db, { recover: false });
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const run = store.getRun(runId);
    expect(run.status).toBe('running');
    expect(run.result).toBeNull();
    for (const t of ['metrics', 'series', 'histograms', 'attribution', 'results_extra']) {
      expect(store.db.prepare(`SELECT count(*) FROM ${t} WHERE run_id = ?`).pluck().get(runId), t).toBe(0);
    }
    expect(store.recoverInterrupted()).toBe(1);
    expect(store.getRun(runId)).toMatchObject({ status: 'cancelled', error: INTERRUPTED_ERROR });
    store.close();
    expect(walBytes).toBeGreaterThan(1 << 20);
  });
});
