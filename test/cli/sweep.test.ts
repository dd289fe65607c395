/**
 * `hetmem sweep`: the real binary on a real worker-thread pool and real SQLite files:
 * points stored once with their tags, resume after Ctrl-C, failing points, shards merged
 * by import, and bad input refused before anything is written.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbFiles, ensureBuilt, hetmem, startHetmem, tempFolder, tinyExperiment } from './helpers.js';
import { rows, runsOf, storedRuns } from './sweep-db.js';

const tmp = tempFolder();
beforeAll(ensureBuilt);
afterAll(tmp.remove);

const lanesSweep = (extra: object = {}) =>
  tinyExperiment({
    name: 'lanes sweep',
    sweep: { repetitions: 2, axes: [{ path: 'hardware.link.lanes', values: [4, 8, 16] }], ...extra },
  });

describe('hetmem sweep', () => {
  it('runs every point on the pool, tags it, prints the axes against the metric, and runs nothing twice', () => {
    const file = tmp.write('lanes.json', lanesSweep());
    const db = join(tmp.dir, 'lanes.sqlite');
    const r = hetmem(tmp.dir, 'sweep', file, '--db', db, '--workers', '2', '--metric', 'link.h2d_bytes');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/: 6 points, 0 already in .*; running 6 on 2 worker threads/);
    expect(r.stdout).toMatch(
      /^hardware\.link\.lanes\s+link\.h2d_bytes \(bytes\) mean\s+sd\s+min\s+max\s+n\s+missing\s+runs\n/,
    );
    expect(r.stdout.trim().split('\n')).toHaveLength(4);
    expect(r.stdout).toMatch(/\n16\s+[\d,]+\s+0\s+[\d,]+\s+[\d,]+\s+2\s+\d+[,-]\d+\n$/);
    const runs = runsOf(db);
    expect(runs.map((x) => x.status)).toEqual(Array(6).fill('done'));
    expect(new Set(runs.map((x) => x.experiment_hash)).size).toBe(6);
    expect(runs.map((x) => x.seed).sort()).toEqual([1, 1, 1, 2, 2, 2]);
    const sweepId = /tag sweep:([0-9a-f]{12})/.exec(r.stderr)?.[1];
    const tags = rows<{ tag: string; n: number }>(db, 'SELECT tag, count(*) AS n FROM tags GROUP BY tag ORDER BY tag');
    expect(tags).toEqual([
      { tag: 'hardware.link.lanes=16', n: 2 },
      { tag: 'hardware.link.lanes=4', n: 2 },
      { tag: 'hardware.link.lanes=8', n: 2 },
      { tag: `sweep:${sweepId}`, n: 6 },
    ]);

    const again = hetmem(tmp.dir, 'sweep', file, '--db', db, '--metric', 'link.h2d_bytes');
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/6 points, 6 already in .*; running 0/);
    expect(again.stdout).toBe(r.stdout);
    expect(runsOf(db)).toHaveLength(6);
  });

  it('counts a run of the same experiment and seed made with `hetmem run` as the point, and tags it', () => {
    const db = join(tmp.dir, 'by-hand.sqlite');
    const byHand = tmp.write(
      'by-hand.json',
      tinyExperiment({ name: 'lanes sweep', seed: 2, hardware: { preset: 'gpu-pcie4-hbm2', link: { lanes: 8 } } }),
    );
    expect(hetmem(tmp.dir, 'run', byHand, '--db', db).code).toBe(0);
    // 8 lanes twice (the same resolved experiment): run once.
    const file = tmp.write(
      'lanes-2.json',
      lanesSweep({ axes: [{ path: 'hardware.link.lanes', values: [4, 8, 16, 8] }] }),
    );
    const r = hetmem(tmp.dir, 'sweep', file, '--db', db, '--workers', '1');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/8 points, 2 already in .*, 1 repeating another point; running 5 on 1 worker thread\n/);
    expect(runsOf(db)).toHaveLength(6);
    expect(rows(db, 'SELECT tag FROM tags WHERE run_id = 1 ORDER BY tag')).toEqual([
      { tag: 'hardware.link.lanes=8' },
      { tag: expect.stringMatching(/^sweep:[0-9a-f]{12}$/) },
    ]);
  });

  it('records a failing point as failed, runs the others, and exits 1', () => {
    const file = tmp.write(
      'capacity.json',
      tinyExperiment({
        name: 'capacity sweep',
        strategy: { impl: 'explicit-copy' },
        sweep: { axes: [{ path: 'hardware.devices[0].dram.capacityBytes', values: ['1MiB', '1GiB'] }] },
      }),
    );
    const db = join(tmp.dir, 'capacity.sqlite');
    const r = hetmem(tmp.dir, 'sweep', file, '--db', db);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/point 0 \(hardware\.devices\[0\]\.dram\.capacityBytes="1MiB"\) failed, run \d: ENOMEM/);
    expect(r.stderr).toMatch(/1 points run, 1 failed \(recorded as failed in /);
    const runs = runsOf(db);
    expect(runs.map((x) => x.status).sort()).toEqual(['done', 'failed']);
    expect(runs.find((x) => x.status === 'failed')?.error).toMatch(/ENOMEM: no room/);
    expect(r.stdout).toMatch(/\n"?1MiB"?\s+-\s+1\s*\n/); // no value for the failed point, 1 missing
  });

  it('Ctrl-C stops cleanly (exit 130, nothing half-stored) and a rerun resumes with the rest', async () => {
    const file = tmp.write(
      'slow.json',
      tinyExperiment({
        name: 'slow sweep',
        workload: { impl: 'stream', arrayBytes: '16MiB', iterations: 1 },
        sweep: { axes: [{ path: 'hardware.link.lanes', values: [1, 2, 4, 8, 16] }] },
      }),
    );
    const db = join(tmp.dir, 'slow.sqlite');
    const { child, done } = startHetmem(tmp.dir, 'sweep', file, '--db', db, '--workers', '1');
    const deadline = Date.now() + 50_000;
    while (storedRuns(db) < 1) {
      if (Date.now() > deadline) throw new Error('no point was stored in time');
      await new Promise((res) => setTimeout(res, 50));
    }
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/stopped: \d points run, 0 failed; rerun the same command to resume/);
    const before = runsOf(db);
    expect(before.length).toBeGreaterThanOrEqual(1);
    expect(before.length).toBeLessThan(5);
    expect(before.every((x) => x.status === 'done')).toBe(true);
    expect(rows(db, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);

    const rerun = hetmem(tmp.dir, 'sweep', file, '--db', db, '--workers', '1');
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain(`5 points, ${before.length} already in`);
    const after = runsOf(db);
    expect(after).toHaveLength(5);
    expect(new Set(after.map((x) => x.experiment_hash)).size).toBe(5);
  });

  it('--shard I/N runs a share into its own database; importing the shards gives exactly the sweep', () => {
    const file = tmp.write(
      'shard.json',
      lanesSweep({ repetitions: 1, axes: [{ path: 'workload.iterations', values: [1, 2, 3, 4, 5] }] }),
    );
    const shardDbs = [0, 1, 2].map((i) => join(tmp.dir, `shard-${i}.sqlite`));
    shardDbs.forEach((db, i) => {
      const r = hetmem(tmp.dir, 'sweep', file, '--shard', `${i}/3`, '--db', db, '--workers', '1');
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`shard ${i}/3: ${i < 2 ? 2 : 1} of 5 points`));
    });
    const merged = join(tmp.dir, 'merged.sqlite');
    for (const db of shardDbs) expect(hetmem(tmp.dir, 'import', '--db', merged, db).code).toBe(0);
    const whole = hetmem(tmp.dir, 'sweep', file, '--db', merged);
    expect(whole.code).toBe(0);
    expect(whole.stderr).toMatch(/5 points, 5 already in .*; running 0/);
    expect(runsOf(merged)).toHaveLength(5);
    expect(whole.stdout.trim().split('\n')).toHaveLength(6);
  });

  it('refuses bad input with exit 2 before a database is created', () => {
    const dir = tempFolder();
    try {
      const bad = dir.write('bad.json', lanesSweep({ axes: [{ path: 'hardware.link.lanes', values: [8, 3] }] }));
      const good = dir.write('good.json', lanesSweep());
      const cases: [string[], RegExp][] = [
        [
          [bad],
          /bad\.json: sweep\.axes\[0\]: at point 2 \(hardware\.link\.lanes=3 repetition 0\): hardware\.link\.lanes: /,
        ],
        [[good, '--shard', '3/3'], /--shard: "3\/3" is not a shard; use I\/N with N shards and I from 0 to N-1/],
        [[good, '--workers', '0'], /--workers: "0" is not a number of workers; use a whole number from 1 to 1024/],
        [[dir.write('plain.json', tinyExperiment())], /plain\.json: sweep: missing; a sweep needs a "sweep" section/],
      ];
      for (const [args, message] of cases) {
        const r = hetmem(dir.dir, 'sweep', ...args);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(message);
      }
      expect(dbFiles(dir.dir)).toEqual([]);
      // `hetmem validate` checks every point the same way.
      const validated = hetmem(dir.dir, 'validate', bad);
      expect(validated.code).toBe(2);
      expect(validated.stdout).toMatch(
        /bad\.json: sweep\.axes\[0\]: at point 2 \(hardware\.link\.lanes=3 repetition 0\)/,
      );
      expect(hetmem(dir.dir, 'validate', good).stdout).toBe(`${good}: valid (a sweep of 6 points)\n`);
      const metric = hetmem(dir.dir, 'sweep', good, '--metric', 'device.page_fault');
      expect(metric.code).toBe(2);
      expect(metric.stderr).toMatch(
        /--metric: the runs have no metric "device\.page_fault" \(did you mean "device\.page_faults"\?\)/,
      );
    } finally {
      dir.remove();
    }
  });
});
