/**
 * The sweep case of `npm run bench`: one 64-point sweep run by the real `hetmem sweep`
 * with 1 and with 2 local worker threads, each into a fresh database. It prints the wall
 * times, the speed-up (issue 10's target: 1.8x on 2 cores) and the per-point overhead of
 * the pool (wall time beyond the points' own simulation time, per point).
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

function measure(dir: string, file: string, workers: number): Measured | string {
  const db = join(dir, `w${workers}.sqlite`);
  const started = performance.now();
  const r = spawnSync(process.execPath, [BIN, 'sweep', file, '--db', db, '--workers', String(workers)], {
    encoding: 'utf8',
  });
  const wallS = (performance.now() - started) / 1000;
  if (r.status !== 0) return `--workers ${workers}: exit ${r.status}: ${(r.stderr ?? '').trim().split('\n').at(-1)}`;
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

export function sweepLine(c: SweepCase, quick: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'hetmem-bench-sweep-'));
  try {
    const file = join(dir, 'sweep.json');
    writeFileSync(file, JSON.stringify(sweepDoc(quick)));
    const one = measure(dir, file, 1);
    if (typeof one === 'string') return `${c.name}: failed: ${one}`;
    const two = measure(dir, file, 2);
    if (typeof two === 'string') return `${c.name}: failed: ${two}`;
    const overheadMs = (m: Measured, workers: number) => ((m.wallS * workers - m.pointsS) / m.points) * 1000;
    return [
      `${c.name} — ${c.title}: ${one.points} points`,
      `1 worker ${one.wallS.toFixed(2)} s wall (points ${one.pointsS.toFixed(2)} s, overhead ${overheadMs(one, 1).toFixed(0)} ms/point)`,
      `2 workers ${two.wallS.toFixed(2)} s wall (overhead ${overheadMs(two, 2).toFixed(0)} thread-ms/point)`,
      `speed-up ${(one.wallS / two.wallS).toFixed(2)}x against the issue's 1.8x target: ${(one.wallS / two.wallS / 1.8).toFixed(2)}x`,
      'Redis workers: not measured (`hetmem worker` over BullMQ is not written yet)',
    ].join('; ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
