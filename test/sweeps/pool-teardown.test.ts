/**
 * A sweep pool destroyed while its threads still load the model (a sweep whose plan fails,
 * a stop right after the start) must end cleanly. On Node 20.19+ piscina's require() of
 * the task module is require(esm), and terminating a thread in it aborted the whole
 * process (FATAL ERROR: v8::Module::IsGraphAsync); CI saw it once in `hetmem sweep`.
 * Real worker threads, the compiled pool; two processes at once so that the threads'
 * loading is slow enough to be cut at every stage.
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const LOCAL = pathToFileURL(resolve('dist/src/main/services/sweeps/local.js')).href;
const SCRIPT = `
const { createPointPool } = await import(${JSON.stringify(LOCAL)});
for (let i = 0; i < 120; i++) {
  const pool = createPointPool(1);
  await new Promise((r) => setTimeout(r, (i % 40) * 5));
  await pool.destroy();
}
console.log('all pools destroyed');
`;

function churn(): Promise<{ code: number | null; signal: string | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT]);
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code, signal) => done({ code, signal, output }));
  });
}

describe('sweep pool teardown', () => {
  it('destroys pools at every stage of their threads loading the model without aborting', async () => {
    const runs = await Promise.all([churn(), churn()]);
    for (const run of runs) {
      expect(run.output.slice(0, 600)).toBe('all pools destroyed\n');
      expect(run.code).toBe(0);
    }
  }, 120_000);
});
