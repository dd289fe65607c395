/**
 * The sweep case of `npm run bench`: one 64-point sweep run by the real `hetmem sweep`
 * with 1 and with 2 local worker threads, and with 2 `hetmem worker` processes over a
 * redis-server started here, each into a fresh database. It prints the wall times, the
 * speed-ups (issue 10's target: 1.8x on 2 cores) and the per-point overhead of the pool
 * and of the queue (wall time beyond the points' own simulation time, per point).
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REDIS_SERVER, startRedis } from './redis-server.js';

export interface SweepCase {
  kind: 'sweep';
  name: string;
  title: string;
}

export const sweepCase: SweepCase = {
  kind: 'sweep',
  name: 'sweep-64',
  title: '64-point sweep (stream, hmm-mirror: 4 link widths x 4 array sizes x 2 iteration counts x 2 seeds)',
};

const BIN = fileURLToPath(new URL('../../bin/hetmem.js', import.meta.url));

function sweepDoc(quick: boolean): object {
  const sizes = quick ? ['256KiB', '512KiB', '768KiB', '1MiB'] : ['2MiB', '4MiB', '6MiB', '8MiB'];
  return {
    name: 'bench sweep',
    hardware: { preset: 'gpu-pcie4-hbm2' },
    strategy: { impl: 'hmm-mirror' },
    workload: { impl: 'stream', arrayBytes: '1MiB', iterations: 1 },
    sweep: {
      repetitions: 2,
      axes: [
        { path: 'hardware.link.lanes', values: [2, 4, 8, 16] },
        { path: 'workload.arrayBytes', values: sizes },
        { path: 'workload.iterations', values: [1, 2] },
      ],
    },
  };
}

interface Measured {
  wallS: number;
  /** Sum of the points' own wall times as stored (simulation in the thread). */
  pointsS: number;
  points: number;
}

/** Runs `hetmem ...args`; resolves to its exit code and stderr. */
function hetmem(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  return { child, done: new Promise((res) => child.on('close', (code) => res({ code, stderr }))) };
}

/** `hetmem sweep` with `args` into a fresh database `name`; its wall time and what the points took. */
async function measure(
  dir: string,
  file: string,
  name: string,
  args: string[],
  started = performance.now(),
): Promise<Measured | string> {
  const db = join(dir, `${name}.sqlite`);
  const r = await hetmem(['sweep', file, '--db', db, ...args]).done;
  const wallS = (performance.now() - started) / 1000;
  if (r.code !== 0) return `${args.join(' ')}: exit ${r.code}: ${r.stderr.trim().split('\n').at(-1)}`;
  const conn = new Database(db, { readonly: true });
  try {
    const row = conn.prepare(`SELECT count(*) AS n, sum(wall_ms) AS ms FROM runs WHERE status = 'done'`).get() as {
      n: number;
      ms: number;
    };
    return { wallS, pointsS: row.ms / 1000, points: row.n };
  } finally {
    conn.close();
  }
}

/**
 * The sweep through Redis: a redis-server on a free port, then two `hetmem worker
 * --concurrency 1` processes and the coordinator started together, as a user would; the
 * clock includes the workers' start-up, as the local figures include the pool's.
 */
async function measureRedis(dir: string, file: string): Promise<Measured | string> {
  if (!existsSync(REDIS_SERVER)) return `not measured: ${REDIS_SERVER} is missing (apt-get install redis-server)`;
  const redis = await startRedis();
  const started = performance.now();
  const workers = [0, 1].map(() => hetmem(['worker', '--redis', redis.url, '--concurrency', '1']));
  try {
    const failed = Promise.race(workers.map((w) => w.done)).then(
      (r) => `a worker exited (${r.code}): ${r.stderr.trim().split('\n').at(-1)}`,
    );
    return await Promise.race([measure(dir, file, 'redis', ['--redis', redis.url], started), failed]);
  } finally {
    for (const w of workers) w.child.kill('SIGINT');
    await Promise.all(workers.map((w) => w.done));
    await redis.stop();
  }
}

/** Wall time beyond the points' own simulation time, per point, over `workers` workers. */
const overheadMs = (m: Measured, workers: number) => ((m.wallS * workers - m.pointsS) / m.points) * 1000;

export async function sweepLine(c: SweepCase, quick: boolean): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hetmem-bench-sweep-'));
  try {
    const file = join(dir, 'sweep.json');
    writeFileSync(file, JSON.stringify(sweepDoc(quick)));
    const one = await measure(dir, file, 'w1', ['--workers', '1']);
    if (typeof one === 'string') return `${c.name}: failed: ${one}`;
    const two = await measure(dir, file, 'w2', ['--workers', '2']);
    if (typeof two === 'string') return `${c.name}: failed: ${two}`;
    const queued = await measureRedis(dir, file);
    const speedUp = (m: Measured) => `${(one.wallS / m.wallS).toFixed(2)}x`;
    const redisPart =
      typeof queued === 'string'
        ? `2 Redis workers: ${queued}`
        : `2 Redis workers ${queued.wallS.toFixed(2)} s wall, speed-up ${speedUp(queued)} (overhead ${overheadMs(queued, 2).toFixed(0)} worker-ms/point: the queue costs ${(overheadMs(queued, 2) - overheadMs(two, 2)).toFixed(0)} ms/point more than the local pool)`;
    return [
      `${c.name} — ${c.title}: ${one.points} points`,
      `1 worker ${one.wallS.toFixed(2)} s wall (points ${one.pointsS.toFixed(2)} s, overhead ${overheadMs(one, 1).toFixed(0)} ms/point)`,
      `2 workers ${two.wallS.toFixed(2)} s wall (overhead ${overheadMs(two, 2).toFixed(0)} thread-ms/point)`,
      `speed-up ${speedUp(two)} against the issue's 1.8x target: ${(one.wallS / two.wallS / 1.8).toFixed(2)}x`,
      redisPart,
    ].join('; ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
