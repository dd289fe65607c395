/**
 * The sweep case of `npm run bench`: one 64-point sweep run by the real `hetmem sweep`
 * with 1 and with 2 local worker threads, and with 2 `hetmem worker` processes over a
 * redis-server started here, each configuration in fresh processes and a fresh database,
 * in two rounds that alternate the configurations (the machine is shared: a round's
 * figures are only comparable with each other). Beside each wall time: the start-up (from
 * the command's start to its first point's start: Node, module loading, planning, the
 * pool or the queue), the overhead per point (worker time not spent simulating), the load
 * average, and the cores other processes took meanwhile. The bare-threads figure is the
 * machine's own ceiling: the same points on 1 and 2 bare threads, nothing else.
 */
import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coresUsed, cpuMark, untilIdle } from './cpu-account.js';
import { REDIS_SERVER, startRedis } from './redis-server.js';
import type { BareReport } from './sweep-bare.js';
import { sweepDoc } from './sweep-doc.js';

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
const BARE = fileURLToPath(new URL('./sweep-bare.js', import.meta.url));
const ROUNDS = 2;

interface Measured {
  workers: number;
  wallS: number;
  /** From the command's start to its first point's start. */
  startupS: number;
  /** From the first point's start to the last point's record. */
  pointsPhaseS: number;
  /** Sum of the points' own simulation times, as stored. */
  simS: number;
  points: number;
  load: number;
  /** Cores that other processes used meanwhile (null off Linux). */
  others: number | null;
}

/** Runs `hetmem ...args`; resolves to its exit code and stderr. */
function hetmem(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  return { child, done: new Promise((res) => child.on('close', (code) => res({ code, stderr }))) };
}

/** What the database says of the points: their simulation time, and when the first began and the last was recorded. */
function readPoints(db: string): { n: number; simS: number; firstStart: number; lastRecord: number } {
  const conn = new Database(db, { readonly: true });
  try {
    const runs = conn.prepare(`SELECT started_at, wall_ms FROM runs WHERE status = 'done'`).all() as {
      started_at: string;
      wall_ms: number;
    }[];
    // started_at is when the point was recorded, its wall_ms earlier it began.
    const recorded = runs.map((r) => Date.parse(r.started_at));
    return {
      n: runs.length,
      simS: runs.reduce((s, r) => s + r.wall_ms, 0) / 1000,
      firstStart: Math.min(...runs.map((r, i) => recorded[i] - r.wall_ms)),
      lastRecord: Math.max(...recorded),
    };
  } finally {
    conn.close();
  }
}

/** What a configuration runs besides the coordinator, inside the measured span (the Redis workers). */
interface Helpers {
  /** Resolves with the reason if a helper ends early. */
  failed: Promise<string>;
  stop: () => Promise<void>;
}

/**
 * `hetmem sweep` with `args` into a fresh database `name`, with `helpers` started at the
 * same moment; `pids` are servers that run throughout, whose CPU counts as the configuration's.
 */
async function measure(
  dir: string,
  file: string,
  name: string,
  workers: number,
  args: string[],
  { helpers, pids = [] }: { helpers?: () => Helpers; pids?: number[] } = {},
): Promise<Measured | string> {
  const db = join(dir, `${name}.sqlite`);
  const load = loadavg()[0];
  const before = cpuMark(pids);
  const startedAt = Date.now();
  const started = performance.now();
  const running = helpers?.();
  let outcome: { code: number | null; stderr: string } | string;
  let wallS: number;
  try {
    const sweep = hetmem(['sweep', file, '--db', db, ...args]).done;
    outcome = await Promise.race(running ? [sweep, running.failed] : [sweep]);
    wallS = (performance.now() - started) / 1000;
  } finally {
    await running?.stop();
  }
  const cores = coresUsed(before, cpuMark(pids));
  if (typeof outcome === 'string') return outcome;
  if (outcome.code !== 0) return `${args.join(' ')}: exit ${outcome.code}: ${outcome.stderr.trim().split('\n').at(-1)}`;
  const p = readPoints(db);
  return {
    workers,
    wallS,
    startupS: (p.firstStart - startedAt) / 1000,
    pointsPhaseS: (p.lastRecord - p.firstStart) / 1000,
    simS: p.simS,
    points: p.n,
    load,
    others: cores?.others ?? null,
  };
}

/**
 * The sweep through Redis: a redis-server on a free port (running before the clock starts,
 * as a cluster's would be) and two `hetmem worker --concurrency 1` processes. Cold: the
 * workers start with the coordinator, as a user would start them, and the clock includes
 * their start-up. Warm: they were started earlier and wait for points, as on a cluster.
 */
async function measureRedis(dir: string, file: string, name: string, warm: boolean): Promise<Measured | string> {
  if (!existsSync(REDIS_SERVER)) return `not measured: ${REDIS_SERVER} is missing (apt-get install redis-server)`;
  const redis = await startRedis();
  const startWorkers = (): Helpers & { pids: number[] } => {
    const workers = [0, 1].map(() => hetmem(['worker', '--redis', redis.url, '--concurrency', '1']));
    return {
      pids: workers.map((w) => w.child.pid as number),
      failed: Promise.race(workers.map((w) => w.done)).then(
        (r) => `a worker exited (${r.code}): ${r.stderr.trim().split('\n').at(-1)}`,
      ),
      stop: async () => {
        for (const w of workers) w.child.kill('SIGINT');
        await Promise.all(workers.map((w) => w.done));
      },
    };
  };
  const args = ['--redis', redis.url];
  try {
    if (!warm) return await measure(dir, file, name, 2, args, { helpers: startWorkers, pids: [redis.pid] });
    const running = startWorkers();
    try {
      await Promise.race([untilIdle(running.pids), running.failed]);
      const helpers = (): Helpers => ({ failed: running.failed, stop: async () => {} });
      return await measure(dir, file, name, 2, args, { helpers, pids: [redis.pid, ...running.pids] });
    } finally {
      await running.stop();
    }
  } finally {
    await redis.stop();
  }
}

/** What V8's own threads took beside the simulation threads, which a second core cannot give back. */
function helpers(one: BareReport, two: BareReport): string {
  if (one.helperShare === null || two.helperShare === null) return '';
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  return `; V8's own threads (garbage collector, compiler) used ${pct(one.helperShare)} and ${pct(two.helperShare)} of the CPU`;
}

function bare(threads: number, quick: boolean): BareReport | string {
  const r = spawnSync(process.execPath, [BARE, String(threads), ...(quick ? ['--quick'] : [])], { encoding: 'utf8' });
  if (r.status !== 0) return `bare threads: exit ${r.status}: ${r.stderr.trim().split('\n').at(-1)}`;
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as BareReport;
}

/** Worker time not spent simulating, per point, over `span` seconds. */
const overheadMs = (m: Measured, spanS: number) => ((spanS * m.workers - m.simS) / m.points) * 1000;

function describe(m: Measured, label: string): string {
  const others = m.others === null ? '' : `, others used ${m.others.toFixed(1)} cores`;
  return (
    `${label} ${m.wallS.toFixed(2)} s (start-up ${m.startupS.toFixed(2)} s, points ${m.pointsPhaseS.toFixed(2)} s; ` +
    `overhead ${overheadMs(m, m.wallS).toFixed(0)} ms/point, ${overheadMs(m, m.pointsPhaseS).toFixed(0)} after start-up; ` +
    `load ${m.load.toFixed(1)}${others})`
  );
}

async function round(dir: string, file: string, k: number, quick: boolean): Promise<string[]> {
  const one = await measure(dir, file, `w1-${k}`, 1, ['--workers', '1']);
  const two = await measure(dir, file, `w2-${k}`, 2, ['--workers', '2']);
  const cold = await measureRedis(dir, file, `redis-cold-${k}`, false);
  const warm = await measureRedis(dir, file, `redis-warm-${k}`, true);
  const bare1 = bare(1, quick);
  const bare2 = bare(2, quick);
  const lines = [`round ${k}:`];
  if (typeof one === 'string' || typeof two === 'string')
    return [...lines, `failed: ${typeof one === 'string' ? one : two}`];
  const speedUp = (m: Measured) =>
    `speed-up ${(one.wallS / m.wallS).toFixed(2)}x (after start-up ${(one.pointsPhaseS / m.pointsPhaseS).toFixed(2)}x)`;
  lines.push(`  ${describe(one, '1 worker')}`);
  // The most the wall could gain if the points phase halved exactly: the start-ups bound it.
  const startupBound = (one.startupS + one.pointsPhaseS) / (two.startupS + one.pointsPhaseS / 2);
  lines.push(
    `  ${describe(two, '2 workers')}; ${speedUp(two)}; with these start-ups even an exact 2x after start-up gives ${startupBound.toFixed(2)}x`,
  );
  for (const [queued, label] of [
    [cold, '2 Redis workers started with it'],
    [warm, '2 Redis workers already waiting'],
  ] as const) {
    if (typeof queued === 'string') {
      lines.push(`  ${label}: ${queued}`);
      continue;
    }
    const more = (span: (m: Measured) => number) =>
      (overheadMs(queued, span(queued)) - overheadMs(two, span(two))).toFixed(0);
    lines.push(
      `  ${describe(queued, label)}; ${speedUp(queued)}; the queue costs ${more((m) => m.wallS)} ms/point more than the local pool, ${more((m) => m.pointsPhaseS)} after start-up`,
    );
  }
  lines.push(
    typeof bare1 === 'string' || typeof bare2 === 'string'
      ? `  ${typeof bare1 === 'string' ? bare1 : bare2}`
      : `  bare threads (the machine's ceiling now): 1 thread ${bare1.computeS.toFixed(2)} s, 2 threads ${bare2.computeS.toFixed(2)} s: ${(bare1.computeS / bare2.computeS).toFixed(2)}x${helpers(bare1, bare2)}`,
  );
  return lines;
}

export async function sweepLine(c: SweepCase, quick: boolean): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hetmem-bench-sweep-'));
  try {
    const file = join(dir, 'sweep.json');
    writeFileSync(file, JSON.stringify(sweepDoc(quick)));
    const lines = [`${c.name} — ${c.title}; the issue's target: a 1.8x speed-up with 2 workers`];
    for (let k = 1; k <= ROUNDS; k++) lines.push(...(await round(dir, file, k, quick)));
    return lines.join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
