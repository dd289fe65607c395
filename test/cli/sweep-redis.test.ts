/**
 * `hetmem sweep --redis` and `hetmem worker`: the real binary as a coordinator and as
 * worker processes, on a real redis-server started for this file, and real SQLite files.
 * Each test uses its own queue name, so the tests share one server without meeting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rows, runsOf, storedRuns } from './sweep-db.js';
import { BIN, dbFiles, ensureBuilt, hetmem, tempFolder, tinyExperiment, type Outcome } from './helpers.js';
import { freePort, startRedis, type RedisServer } from '../../bench/redis-server.js';

const tmp = tempFolder();
let redis: RedisServer;
beforeAll(async () => {
  ensureBuilt();
  redis = await startRedis();
}, 60_000);
afterAll(async () => {
  await redis?.stop();
  tmp.remove();
});

interface Running {
  child: ChildProcess;
  done: Promise<Outcome>;
  /** stderr so far */
  stderr: () => string;
}

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function start(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: tmp.dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const done = new Promise<Outcome>((res) => child.on('close', (code) => res({ code, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

async function until(what: string, test: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** A worker on `queue`; short lock and stalled-check times, so a killed worker's point comes back in seconds. */
function worker(queue: string, env: Record<string, string> = {}): Running {
  const args = ['worker', '--redis', redis.url, '--queue', queue, '--concurrency', '1'];
  return start([...args, '--lock-duration', '1500', '--stalled-interval', '500'], env);
}

const coordinator = (file: string, db: string, queue: string) =>
  start(['sweep', file, '--db', db, '--redis', redis.url, '--queue', queue]);

const startedPoints = (...workers: Running[]) => workers.flatMap((w) => w.stderr().match(/point .*: started/g) ?? []);

/** Every result row of every run, keyed by point hash, in insertion order: equal only if bit for bit equal. */
function resultsByHash(db: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const run of runsOf(db)) {
    const rowsOf = (table: string) =>
      rows<Record<string, unknown>>(db, `SELECT * FROM ${table} WHERE run_id = ${run.id} ORDER BY rowid`).map(
        ({ run_id: _, ...row }) => row,
      );
    out[run.experiment_hash] = {
      status: run.status,
      metrics: rowsOf('metrics'),
      series: rowsOf('series'),
      histograms: rowsOf('histograms'),
      attribution: rowsOf('attribution'),
      extra: rowsOf('results_extra'),
      timelines: rowsOf('timelines'),
    };
  }
  return out;
}

const lanesSweep = (name: string, arrayBytes = '1MiB') =>
  tinyExperiment({
    name,
    workload: { impl: 'stream', arrayBytes, iterations: 1 },
    sweep: { repetitions: 2, axes: [{ path: 'hardware.link.lanes', values: [4, 8, 16] }] },
  });

describe('hetmem sweep --redis with hetmem worker', () => {
  it('a coordinator and two workers store every point once, bit for bit as a local sweep does', async () => {
    const file = tmp.write('lanes.json', lanesSweep('redis lanes'));
    const db = join(tmp.dir, 'redis.sqlite');
    const workers = [worker('q-basic'), worker('q-basic')];
    const r = await coordinator(file, db, 'q-basic').done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/6 points, 0 already in .*; running 6 on queue q-basic at redis:\/\/127\.0\.0\.1:\d+/);
    // The workers start with the coordinator: whether they have connected when it queues is a race.
    expect(r.stderr).toMatch(/queued 6 points; (\d+ worker connections? on the queue|no worker is connected yet)/);
    expect(r.stderr).toMatch(/6 points run, 0 failed; stored in /);
    expect(startedPoints(...workers)).toHaveLength(6);

    const local = join(tmp.dir, 'local.sqlite');
    const l = hetmem(tmp.dir, 'sweep', file, '--db', local, '--workers', '2');
    expect(l.code, l.stderr).toBe(0);
    expect(r.stdout.replace(/\d+[-,]\d+\n/g, '\n')).toBe(l.stdout.replace(/\d+[-,]\d+\n/g, '\n'));
    const remote = resultsByHash(db);
    expect(Object.keys(remote)).toHaveLength(6);
    expect(remote).toEqual(resultsByHash(local));

    // Run again: nothing is queued, nothing runs.
    const again = await coordinator(file, db, 'q-basic').done;
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/6 points, 6 already in .*; running 0/);
    expect(startedPoints(...workers)).toHaveLength(6);
    expect(runsOf(db)).toHaveLength(6);

    for (const w of workers) w.child.kill('SIGINT');
    for (const w of workers) {
      const out = await w.done;
      expect(out.code).toBe(130);
      expect(out.stderr).toMatch(/stopping\n/);
    }
  }, 120_000);

  it('a worker killed mid-point: another worker takes the point over and it is stored once', async () => {
    const file = tmp.write('slow.json', lanesSweep('redis killed worker', '32MiB'));
    const db = join(tmp.dir, 'killed-worker.sqlite');
    const doomed = worker('q-kill');
    await until('the worker to start', () => /Ctrl-C stops/.test(doomed.stderr()));
    const c = coordinator(file, db, 'q-kill');
    await until('a point to start', () => startedPoints(doomed).length === 1);
    doomed.child.kill('SIGKILL');
    const killedPoint = /point (.*) \(sweep/.exec(doomed.stderr())?.[1];
    const heir = worker('q-kill');
    const r = await c.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/6 points run, 0 failed/);
    expect(heir.stderr()).toContain(`point ${killedPoint} (sweep`);
    const runs = runsOf(db);
    expect(runs.map((x) => x.status)).toEqual(Array(6).fill('done'));
    expect(new Set(runs.map((x) => x.experiment_hash)).size).toBe(6);
  }, 180_000);

  it('a coordinator killed and restarted collects what finished meanwhile and reruns nothing stored', async () => {
    const file = tmp.write('restart.json', lanesSweep('redis restart', '8MiB'));
    const db = join(tmp.dir, 'restart.sqlite');
    const workers = [worker('q-restart'), worker('q-restart')];
    const first = coordinator(file, db, 'q-restart');
    await until('a point to be stored', () => storedRuns(db) >= 1);
    first.child.kill('SIGKILL');
    await first.done;
    const storedBefore = storedRuns(db);
    // The workers go on with the queued points while no coordinator runs.
    await until(
      'the workers to finish every point',
      () =>
        workers.every((w) => !/started\n[^\n]*$/.test(w.stderr())) &&
        workers.flatMap((w) => w.stderr().match(/: done in/g) ?? []).length === 6,
    );
    const second = await coordinator(file, db, 'q-restart').done;
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`6 points, ${storedBefore} already in`);
    expect(second.stderr).toMatch(
      new RegExp(`queued 0 points, collected ${6 - storedBefore} that finished while no coordinator ran`),
    );
    expect(startedPoints(...workers)).toHaveLength(6); // no point ran twice
    const runs = runsOf(db);
    expect(runs).toHaveLength(6);
    expect(new Set(runs.map((x) => x.experiment_hash)).size).toBe(6);
  }, 180_000);

  it('Ctrl-C: a worker finishes its point first; a coordinator leaves the rest queued, and a rerun collects them', async () => {
    const file = tmp.write('ctrl-c.json', lanesSweep('redis ctrl-c', '32MiB'));
    const db = join(tmp.dir, 'ctrl-c.sqlite');
    const first = worker('q-ctrl-c');
    const c = coordinator(file, db, 'q-ctrl-c');
    await until('a point to start', () => startedPoints(first).length === 1);
    first.child.kill('SIGINT');
    const w = await first.done;
    expect(w.code).toBe(130);
    expect(w.stderr).toMatch(
      /stopping: finishing 1 point in progress \(Ctrl-C again to leave it to the other workers\)\n.*: done in [\d.]+ s\n/,
    );
    await until('the finished point to be stored', () => storedRuns(db) === 1);
    c.child.kill('SIGINT');
    const stopped = await c.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(
      /hetmem: stopped: 1 points run, 0 failed; the rest stay queued for the workers; rerun the same command to collect them\n$/,
    );
    expect(runsOf(db)).toHaveLength(1);

    const second = worker('q-ctrl-c');
    const rerun = await coordinator(file, db, 'q-ctrl-c').done;
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain('6 points, 1 already in');
    expect(startedPoints(first, second)).toHaveLength(6); // every point ran once
    expect(new Set(runsOf(db).map((r) => r.experiment_hash)).size).toBe(6);
    second.child.kill('SIGINT');
    await second.done;
  }, 180_000);

  it('Redis restarted without its data: the coordinator reconnects and queues the points again', async () => {
    let own = await startRedis();
    try {
      const file = tmp.write('restarted-redis.json', lanesSweep('redis restarted'));
      const db = join(tmp.dir, 'restarted-redis.sqlite');
      const c = start(['sweep', file, '--db', db, '--redis', own.url]);
      await until('the points to be queued', () => /queued 6 points; no worker is connected yet/.test(c.stderr()));
      await own.stop();
      await until('the coordinator to see Redis gone', () => /ECONNREFUSED/.test(c.stderr()));
      own = await startRedis(own.port);
      const w = start(['worker', '--redis', own.url, '--concurrency', '1']);
      const r = await c.done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`hetmem: Redis at ${own.url}: connect ECONNREFUSED [^;]+; retrying\n`));
      expect(r.stderr).toContain(
        'hetmem: the queue lost its points (Redis restarted without its data?); queued the 6 left again',
      );
      expect(runsOf(db)).toHaveLength(6);
      w.child.kill('SIGINT');
      await w.done;
    } finally {
      await own.stop();
    }
  }, 120_000);

  it('an unreachable Redis: exit 1 naming the URL, and the database untouched', async () => {
    const file = tmp.write('unreachable.json', lanesSweep('redis unreachable'));
    const dir = tempFolder();
    try {
      const db = join(dir.dir, 'kept.sqlite');
      expect(hetmem(dir.dir, 'sweep', file, '--db', db, '--workers', '1').code).toBe(0);
      const files = readdirSync(dir.dir).sort();
      const sha = createHash('sha256').update(readFileSync(db)).digest('hex');
      const url = `redis://127.0.0.1:${await freePort()}`;
      const other = tmp.write('other.json', lanesSweep('redis unreachable 2'));
      const r = hetmem(dir.dir, 'sweep', other, '--db', db, '--redis', url);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^hetmem: Redis at ${url} is unreachable \\(connect ECONNREFUSED [^)]*\\); .*nothing was queued or stored\\n$`,
        ),
      );
      expect(readdirSync(dir.dir).sort()).toEqual(files);
      expect(createHash('sha256').update(readFileSync(db)).digest('hex')).toBe(sha);
      const fresh = hetmem(dir.dir, 'sweep', other, '--db', join(dir.dir, 'new.sqlite'), '--redis', url);
      expect(fresh.code).toBe(1);
      expect(dbFiles(dir.dir)).toEqual(dbFiles(dir.dir).filter((f) => files.includes(f))); // new.sqlite not created
      const w = hetmem(dir.dir, 'worker', '--redis', url);
      expect(w.code).toBe(1);
      expect(w.stderr).toContain(`hetmem: Redis at ${url} is unreachable`);
      // A URL that is not one is bad input (exit 2).
      const bad = hetmem(dir.dir, 'sweep', other, '--db', db, '--redis', 'http://127.0.0.1:6379');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(
        /--redis: http:\/\/127\.0\.0\.1:6379 is not a Redis URL .*redis:\/\/127\.0\.0\.1:6379/,
      );
      const both = hetmem(dir.dir, 'sweep', other, '--db', db, '--redis', url, '--workers', '2');
      expect(both.code).toBe(2);
      expect(both.stderr).toMatch(/--workers: not with --redis/);
    } finally {
      dir.remove();
    }
  }, 60_000);

  it('a worker of another model version refuses the point with a clear error; nothing of it is stored', async () => {
    const file = tmp.write('version.json', lanesSweep('redis version'));
    const db = join(tmp.dir, 'version.sqlite');
    const stale = worker('q-version', { HETMEM_TEST_WORKER_MODEL_VERSION: '0.0.1-test' });
    await until('the worker to start', () => /Ctrl-C stops/.test(stale.stderr()));
    const c = coordinator(file, db, 'q-version');
    const s = await stale.done;
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(
      /hetmem: refused by worker [^:]+:\d+: it runs model version 0\.0\.1-test and the point needs \d+\.\d+\.\d+[^;]*; install the coordinator's hetmem version on .*; stopped\n/,
    );
    const good = worker('q-version');
    const r = await c.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /hetmem: point \d \(hardware\.link\.lanes=\d+ repetition \d\) not run: refused by worker .* 0\.0\.1-test/,
    );
    const refused = Number(/(\d+) refused by workers of another model version/.exec(r.stderr)?.[1]);
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(runsOf(db).map((x) => x.status)).toEqual(Array(6 - refused).fill('done'));
    // Rerun with only up-to-date workers: the refused points are queued again.
    const rerun = await coordinator(file, db, 'q-version').done;
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(`6 points, ${6 - refused} already in`);
    expect(runsOf(db)).toHaveLength(6);
    good.child.kill('SIGINT');
    expect((await good.done).code).toBe(130);
  }, 120_000);
});
