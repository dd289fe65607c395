/** `hetmem run`: a real run end to end, its JSON, determinism, and the failure and cancel paths. */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/main/services/store/store.js';
import { ensureBuilt, hetmem, startHetmem, tempFolder, tinyExperiment } from './helpers.js';

const tmp = tempFolder();
beforeAll(ensureBuilt);
afterAll(tmp.remove);

function storedRun(db: string, id: number) {
  const store = Store.open(db, { recover: false });
  try {
    return store.getRun(id);
  } finally {
    store.close();
  }
}

describe('hetmem run', () => {
  it('runs a small experiment, prints the summary and stores the run as done with its metrics', () => {
    const file = tmp.write('tiny.json', tinyExperiment());
    const r = hetmem(tmp.dir, 'run', file);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^run 1: done in /);
    for (const text of ['strategy        hmm-mirror', 'workload        stream', 'simulated time', 'metrics']) {
      expect(r.stdout).toContain(text);
    }
    // The metrics table (component, name, value, unit) and the time attribution per agent.
    expect(r.stdout).toMatch(/component\s+name\s+value\s+unit/);
    expect(r.stdout).toMatch(/\n\s+sim\s+sim\.time_ns\s+[\d,.]+\s+ns\n/);
    expect(r.stdout).toMatch(/\n\s+link\s+link\.h2d_bytes\s+[\d,]+\s+bytes\n/);
    expect(r.stdout).toMatch(/time attribution/);
    expect(r.stdout).toMatch(/\n\s+gpu0\s+864(\s+\d+\.\d%){7}\n/);
    // It ends with where the device's busy time went, largest share first.
    const last = r.stdout.trimEnd().split('\n').at(-1)!;
    expect(last).toMatch(/^gpu0: \d+ % [a-z ]+(, \d+ % [a-z ]+)* \(busy \d+ % of the run\)$/);
    const shares = [...last.matchAll(/(\d+) % /g)].map((x) => Number(x[1]));
    expect(shares).toEqual([...shares].sort((a, b) => b - a));

    const db = join(tmp.dir, 'hetmem.sqlite'); // the default --db, in the working directory
    const run = storedRun(db, 1);
    expect(run.status).toBe('done');
    expect(run.strategy).toBe('hmm-mirror');
    expect(run.workload).toBe('stream');
    expect(run.result?.metrics['sim.time_ns'].value).toBeGreaterThan(0);
    expect(run.result?.metrics['device.accesses'].value).toBeGreaterThan(0);
    // The stored experiment is the one as run: validated, preset merged, defaults filled in.
    expect(JSON.parse(run.experimentJson).hardware.link.lanes).toBe(16);
  });

  it("lists a script's operations with their outcome, and flags one that differs from its expectation", () => {
    const file = tmp.write('script.json', {
      name: 'script',
      hardware: { device: { computeUnits: 2, contextsPerUnit: 2, mmu: { pageSizeBytes: '4KiB' } } },
      strategy: { impl: 'hmm-mirror' },
      workload: {
        impl: 'scripted',
        ops: [
          { op: 'mmap', name: 'buf', sizeBytes: '8KiB', prot: 'read' },
          { op: 'dev.write', region: 'buf', expect: 'EPERM' },
          { op: 'dev.read', region: 'buf', expect: 'EFAULT' },
        ],
      },
    });
    const r = hetmem(tmp.dir, 'run', file, '--db', 'script.sqlite');
    expect(r.code).toBe(1); // an unexpected outcome fails the script (its FAIL line is tested in set-and-progress)
    expect(r.stdout).toMatch(/operations\n\s+#\s+operation\s+time\s+faults\s+h2d bytes\s+d2h bytes\s+outcome\n/);
    expect(r.stdout).toMatch(/\n\s+1\s+op 1: dev\.write buf .*\sEPERM\n/);
    expect(r.stdout).toMatch(/\n\s+2\s+op 2: dev\.read buf .*\sok \(expected EFAULT\) UNEXPECTED\n/);
    expect(r.stdout).toMatch(/\nerrors\n\s+\[1\] EPERM: device write to buf\+0x/);
  });

  it('--json prints the run id and the whole result, and nothing else, on stdout', () => {
    const file = tmp.write('tiny.json', tinyExperiment());
    const r = hetmem(tmp.dir, 'run', file, '--db', 'json.sqlite', '--json', '--seed', '9');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.runId).toBe(1);
    expect(out.result.seed).toBe(9);
    expect(out.result.metrics['sim.time_ns'].unit).toBe('ns');
    expect(out.result.metrics['sim.time_ns'].value).toBeGreaterThan(0);
    expect(Array.isArray(out.result.attribution)).toBe(true);
    expect(storedRun(join(tmp.dir, 'json.sqlite'), 1).seed).toBe(9);
  });

  it('gives the identical result for the same experiment and seed', () => {
    const file = tmp.write('gather.json', {
      ...tinyExperiment(),
      workload: { impl: 'gather', tableBytes: '16MiB', accesses: 20000 },
    });
    const results = [1, 2, 3].map((i) => {
      const r = hetmem(tmp.dir, 'run', file, '--db', `det.sqlite`, '--json', '--seed', i === 3 ? '8' : '7');
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    });
    expect(results.map((r) => r.runId)).toEqual([1, 2, 3]);
    // Everything but the wall-clock fields (wallMs, and the run id) is the result.
    expect(JSON.stringify(results[1].result)).toBe(JSON.stringify(results[0].result));
    expect(JSON.stringify(results[2].result)).not.toBe(JSON.stringify(results[0].result));
  });

  it('a run that fails while running exits 1, names the trace line, and is recorded as failed', () => {
    tmp.write('traces/bad.trace', 'LD 0x1000\nST 0x2040\nLD zzz\nLD 0x40\n');
    // The trace path is relative to the experiment's folder, not to the working directory.
    const file = tmp.write('trace.json', {
      ...tinyExperiment({ name: 'bad trace' }),
      workload: { impl: 'trace', path: 'traces/bad.trace', regionBytes: '1MiB' },
    });
    const r = hetmem(tmp.dir + '/traces', 'run', file, '--db', '../fail.sqlite');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^hetmem: run 1 failed: .*bad\.trace line 3: "LD zzz"/);
    const run = storedRun(join(tmp.dir, 'fail.sqlite'), 1);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/line 3/);
    expect(run.result).toBeNull();
  });

  /** Starts a run that lasts, and resolves once its row says it is running. */
  async function startLongRun(name: string) {
    const file = tmp.write(`${name}.json`, {
      ...tinyExperiment({ name }),
      workload: { impl: 'gather', tableBytes: '1GiB', accesses: 1e9 },
    });
    const db = join(tmp.dir, `${name}.sqlite`);
    const started = startHetmem(tmp.dir, 'run', file, '--db', db);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (existsSync(db)) {
        const conn = new Database(db, { readonly: true, fileMustExist: true });
        try {
          const row = conn.prepare(`SELECT status FROM runs WHERE id = 1`).get() as { status: string } | undefined;
          if (row?.status === 'running') break;
        } catch {
          // schema still being created
        } finally {
          conn.close();
        }
      }
      if (Date.now() > deadline) throw new Error('the run never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    return { ...started, db };
  }

  it('Ctrl-C stops the run: exit 130 and the run is recorded as cancelled', async () => {
    const { child, done, db } = await startLongRun('interrupted');
    child.kill('SIGINT');
    const r = await done;
    expect(r.stderr).toMatch(/run 1 cancelled/);
    expect(r.code).toBe(130);
    const run = storedRun(db, 1);
    expect(run.status).toBe('cancelled');
    expect(run.result).toBeNull();
  });

  it('a process killed mid-run leaves an intact database; runs shows it interrupted, the next writer records it', async () => {
    const { child, done, db } = await startLongRun('killed');
    child.kill('SIGKILL');
    await done;
    const conn = new Database(db, { readonly: true, fileMustExist: true });
    try {
      expect(conn.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(conn.prepare('SELECT count(*) AS n FROM metrics').get()).toEqual({ n: 0 });
    } finally {
      conn.close();
    }
    const listed = hetmem(tmp.dir, 'runs', '--db', db);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ *1 +cancelled .*interrupted: the process ended/m);
    // `runs` only reads; the next store that writes records the run as cancelled.
    expect(storedRun(db, 1)).toMatchObject({ status: 'running' });
    Store.open(db).close();
    expect(storedRun(db, 1)).toMatchObject({ status: 'cancelled', result: null });
  });
});
