/**
 * Reading and annotating stored runs from the command line: show, compare, runs with
 * filters and --json, tag, trace. The real binary on a real SQLite file; compare is
 * checked against the shared comparison the app's compare view uses.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricRows } from '../../src/shared/compare.js';
import { Store } from '../../src/main/services/store/store.js';
import type { TraceEvent } from '../../src/main/services/workbench/trace.js';
import { ensureBuilt, hetmem, tempFolder, tinyExperiment } from './helpers.js';

const tmp = tempFolder();
const db = () => join(tmp.dir, 'runs.sqlite');

beforeAll(() => {
  ensureBuilt();
  const file = tmp.write('tiny.json', tinyExperiment());
  // 1: hmm-mirror x16; 2: explicit-copy x8; 3: a failed trace run.
  expect(hetmem(tmp.dir, 'run', file, '--db', 'runs.sqlite').code).toBe(0);
  const r2 = hetmem(
    tmp.dir,
    'run',
    file,
    '--db',
    'runs.sqlite',
    '--set',
    'strategy.impl=explicit-copy',
    '--set',
    'hardware.link.lanes=8',
  );
  expect(r2.code, r2.stderr).toBe(0);
  tmp.write('bad.trace', 'LD 0x40\nLD zzz\n');
  const bad = tmp.write(
    'bad.json',
    tinyExperiment({ workload: { impl: 'trace', path: 'bad.trace', regionBytes: '1MiB' } }),
  );
  expect(hetmem(tmp.dir, 'run', bad, '--db', 'runs.sqlite').code).toBe(1);
}, 120_000);
afterAll(tmp.remove);

function stored(id: number, file = db()) {
  const store = Store.openReadOnly(file);
  try {
    return store.getRun(id);
  } finally {
    store.close();
  }
}

describe('hetmem show', () => {
  it("prints a done run's summary in the format `hetmem run` prints", () => {
    const r = hetmem(tmp.dir, 'show', '1', '--db', 'runs.sqlite');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^run 1: done in (\d+ ms|[\d.]+ s) \(stored in runs\.sqlite\)\n/);
    expect(r.stdout).toContain('strategy        hmm-mirror');
    expect(r.stdout).toMatch(/component\s+name\s+value\s+unit/);
    expect(r.stdout).toMatch(/\n\s+sim\s+sim\.time_ns\s+[\d,.]+\s+ns\n/);
    expect(r.stdout).toMatch(/time attribution/);
    const time = stored(1).result!.metrics['sim.time_ns'].value;
    expect(r.stdout).toContain(time.toLocaleString('en-US', { maximumFractionDigits: 1 }));
  });

  it('a failed run shows its status and error; --json gives the whole record', () => {
    const r = hetmem(tmp.dir, 'show', '3', '--db', 'runs.sqlite');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^run 3: failed after /);
    expect(r.stdout).toMatch(/error\s+.*bad\.trace line 2/);
    const j = JSON.parse(hetmem(tmp.dir, 'show', '2', '--db', 'runs.sqlite', '--json').stdout);
    expect(j).toMatchObject({ id: 2, status: 'done', strategy: 'explicit-copy' });
    expect(j.experiment.hardware.link.lanes).toBe(8);
    expect(j.result.metrics['sim.time_ns'].value).toBe(stored(2).result!.metrics['sim.time_ns'].value);
    // The timeline (megabytes in a long run) is `hetmem trace`'s to write.
    expect(stored(2).result!.timeline).toBeDefined();
    expect(j.result.timeline).toBeUndefined();
  });

  it('an unknown run or a bad id: exit 2, naming RUN', () => {
    expect(hetmem(tmp.dir, 'show', '9', '--db', 'runs.sqlite')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^hetmem: RUN: run 9 does not exist in runs\.sqlite/),
    });
    expect(hetmem(tmp.dir, 'show', 'x1', '--db', 'runs.sqlite')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/RUN: "x1" is not a run id; give a whole number from 1/),
    });
  });
});

describe('hetmem compare', () => {
  it('shows metrics side by side with differences, the fields that differ and attribution', () => {
    const r = hetmem(tmp.dir, 'compare', '1', '2', '--db', 'runs.sqlite');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/metrics \(difference from run 1\)/);
    const [a, b] = [stored(1), stored(2)];
    const t1 = a.result!.metrics['sim.time_ns'].value;
    const t2 = b.result!.metrics['sim.time_ns'].value;
    const pct = (((t2 - t1) / t1) * 100).toFixed(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `\\n\\s+sim\\.time_ns\\s+ns\\s+[\\d,.]+\\s+[\\d,.]+ \\(${pct.startsWith('-') ? '' : '\\+'}${pct.replace('.', '\\.')}%\\)\\n`,
      ),
    );
    expect(r.stdout).toMatch(/experiment fields that differ\n\s+field\s+run 1\s+run 2\n/);
    expect(r.stdout).toMatch(/\n\s+hardware\.link\.lanes\s+16\s+8\n/);
    expect(r.stdout).toMatch(/\n\s+strategy\.impl\s+"hmm-mirror"\s+"explicit-copy"\n/);
    expect(r.stdout).toMatch(/time attribution[^\n]*\n\s+run\s+agent\s+contexts\s+compute/);
    expect(r.stdout).toMatch(/\n\s+2\s+gpu0\s+\d+(\s+\d+\.\d%){7}\n/);
  });

  it('--json holds the same rows as the shared comparison of the app', () => {
    const r = hetmem(
      tmp.dir,
      'compare',
      '1-2',
      '--db',
      'runs.sqlite',
      '--json',
      '--metric',
      'sim.time_ns',
      '--metric',
      'link.h2d_bytes',
    );
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const runs = [stored(1), stored(2)].map((s) => ({
      experiment: JSON.parse(s.experimentJson),
      metrics: s.result!.metrics,
    }));
    expect(j.metrics).toEqual(metricRows(runs, ['sim.time_ns', 'link.h2d_bytes']));
    expect(j.differences).toContainEqual({ path: 'hardware.link.lanes', values: [16, 8] });
    expect(j.runs.map((x: { id: number }) => x.id)).toEqual([1, 2]);
    expect(j.attribution[1].attribution.length).toBeGreaterThan(0);
  });

  it('refuses fewer than two runs, an unknown run and an unknown metric, with exit 2', () => {
    expect(hetmem(tmp.dir, 'compare', '1', '--db', 'runs.sqlite').stderr).toMatch(
      /RUNS: give at least two different runs/,
    );
    const missing = hetmem(tmp.dir, 'compare', '1', '7', '--db', 'runs.sqlite');
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringMatching(/RUNS: run 7 does not exist/) });
    const metric = hetmem(tmp.dir, 'compare', '1', '2', '--db', 'runs.sqlite', '--metric', 'sim.tme_ns');
    expect(metric).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--metric: "sim\.tme_ns" is not a metric of these runs; they have sim\.time_ns/),
    });
  });
});

describe('hetmem runs with filters', () => {
  it('--json lists runs as the app does, with tags and key metrics', () => {
    const r = hetmem(tmp.dir, 'runs', '--db', 'runs.sqlite', '--json');
    expect(r.code, r.stderr).toBe(0);
    const runs = JSON.parse(r.stdout);
    expect(runs.map((x: { id: number }) => x.id)).toEqual([1, 2, 3]);
    expect(runs[0].keyMetrics['sim.time_ns'].value).toBe(stored(1).result!.metrics['sim.time_ns'].value);
    expect(runs[2]).toMatchObject({ status: 'failed', keyMetrics: {} });
  });

  it('--strategy, --status and --tag filter, and combine', () => {
    const ids = (...args: string[]) =>
      JSON.parse(hetmem(tmp.dir, 'runs', '--db', 'runs.sqlite', '--json', ...args).stdout).map(
        (x: { id: number }) => x.id,
      );
    expect(ids('--strategy', 'explicit-copy')).toEqual([2]);
    expect(ids('--status', 'failed')).toEqual([3]);
    expect(ids('--strategy', 'hmm-mirror', '--status', 'done')).toEqual([1]);
    expect(ids('--tag', 'nothing-has-this')).toEqual([]);
    expect(hetmem(tmp.dir, 'runs', '--db', 'runs.sqlite', '--strategy', 'gmem').stdout).toBe(
      'no runs in runs.sqlite match these filters\n',
    );
  });

  it('a bad --status names the valid ones', () => {
    expect(hetmem(tmp.dir, 'runs', '--db', 'runs.sqlite', '--status', 'finished')).toMatchObject({
      code: 2,
      stderr: 'hetmem: --status: "finished" is not a run status; use running, done, failed, cancelled\n',
    });
  });
});

describe('hetmem tag', () => {
  it('adds and removes tags; runs --tag finds them', () => {
    expect(hetmem(tmp.dir, 'tag', '2', 'baseline', 'x8', '--db', 'runs.sqlite')).toMatchObject({
      code: 0,
      stdout: 'run 2: baseline, x8\n',
    });
    expect(stored(2).tags).toEqual(['baseline', 'x8']);
    const listed = hetmem(tmp.dir, 'runs', '--db', 'runs.sqlite', '--tag', 'baseline');
    expect(listed.stdout).toMatch(/\n\s*2\s+done .*baseline, x8/);
    expect(listed.stdout).not.toMatch(/\n\s*1\s+done/);
    expect(hetmem(tmp.dir, 'tag', '2', '--remove', 'x8', '--db', 'runs.sqlite').stdout).toBe('run 2: baseline\n');
    expect(stored(2).tags).toEqual(['baseline']);
  });

  it('refuses a bad tag, a tag it lacks, an unknown run and a missing database, changing nothing', () => {
    const bad = hetmem(tmp.dir, 'tag', '1', 'ok', 'a,b', '--db', 'runs.sqlite');
    expect(bad).toMatchObject({ code: 2, stderr: 'hetmem: TAGS: "a,b": a tag holds no comma or line break\n' });
    const lacking = hetmem(tmp.dir, 'tag', '1', '--remove', 'nope', '--db', 'runs.sqlite');
    expect(lacking).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/run 1 has no tag "nope" \(it has no tags\); nothing was changed/),
    });
    expect(stored(1).tags).toEqual([]);
    expect(hetmem(tmp.dir, 'tag', '8', 'x', '--db', 'runs.sqlite').stderr).toMatch(/RUN: run 8 does not exist/);
    expect(hetmem(tmp.dir, 'tag', '1', 'x', '--db', 'none.sqlite').stderr).toMatch(/--db: none\.sqlite does not exist/);
    expect(existsSync(join(tmp.dir, 'none.sqlite'))).toBe(false);
  });
});

describe('hetmem trace', () => {
  it("writes the run's Chrome trace-event timeline: phases, series, and every component's busy intervals", () => {
    const r = hetmem(tmp.dir, 'trace', '1', '--out', 'run1.trace.json', '--db', 'runs.sqlite');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote the timeline of run 1 to run1\.trace\.json\n/);
    const trace = JSON.parse(readFileSync(join(tmp.dir, 'run1.trace.json'), 'utf8'));
    const events = trace.traceEvents as TraceEvent[];
    // Well-formed: metadata first, then events in time order, microsecond times, whole ids.
    const firstTimed = events.findIndex((e) => e.ph !== 'M');
    expect(events.slice(firstTimed).every((e) => e.ph !== 'M')).toBe(true);
    for (const e of events) {
      expect(typeof e.name).toBe('string');
      expect(['M', 'X', 'C', 'i']).toContain(e.ph);
      expect(Number.isInteger(e.pid) && Number.isInteger(e.tid)).toBe(true);
      expect(Number.isFinite(e.ts) && e.ts >= 0).toBe(true);
      if (e.ph === 'X') expect(Number.isFinite(e.dur) && e.dur! >= 0).toBe(true);
    }
    const timed = events.slice(firstTimed);
    expect(timed.every((e, i) => i === 0 || e.ts >= timed[i - 1]!.ts)).toBe(true);
    // Every thread that has slices is named; slices on one thread never overlap.
    const threads = new Map<string, string>();
    for (const e of events) if (e.name === 'thread_name') threads.set(`${e.pid}/${e.tid}`, e.args!.name as string);
    const byThread = new Map<string, TraceEvent[]>();
    for (const e of timed.filter((x) => x.ph === 'X')) {
      const key = `${e.pid}/${e.tid}`;
      expect(threads.has(key), key).toBe(true);
      byThread.set(key, [...(byThread.get(key) ?? []), e]);
    }
    for (const slices of byThread.values()) {
      for (let i = 1; i < slices.length; i++) {
        expect(slices[i]!.ts).toBeGreaterThanOrEqual(slices[i - 1]!.ts + slices[i - 1]!.dur! - 1e-9);
      }
    }
    const run = stored(1).result!;
    const onThread = (name: string) => {
      const key = [...threads].find(([, n]) => n === name)?.[0];
      expect(key, `a thread named ${name} in ${[...threads.values()].join(', ')}`).toBeDefined();
      return byThread.get(key!) ?? [];
    };
    expect(onThread('phases').length).toBe(run.ops.length);
    expect(events.some((e) => e.ph === 'C')).toBe(true);
    // The link's busy time in the trace is the run's link metric, to rounding.
    const busyUs = onThread('gpu0.link.h2d').reduce((sum, e) => sum + e.dur!, 0);
    const metricUs = (run.metrics['link.h2d_utilization']!.value * run.metrics['sim.time_ns']!.value) / 1000;
    expect(busyUs).toBeGreaterThan(0);
    expect(busyUs).toBeCloseTo(metricUs, 4);
    expect(onThread('gpu0.fault-handler').length).toBe(run.metrics['device.fault_batches']!.value);
    const processes = events.filter((e) => e.name === 'process_name').map((e) => e.args!.name);
    expect(processes).toEqual(['run 1: tiny stream', 'run 1: gpu0', 'run 1: host']);
  });

  it('says when a run has no component timeline, and when its budget coarsened it', () => {
    const file = tmp.write('no-timeline.json', tinyExperiment({ sampling: { timelineIntervals: 0 } }));
    expect(hetmem(tmp.dir, 'run', file, '--db', 'notes.sqlite').code).toBe(0);
    const none = hetmem(tmp.dir, 'trace', '1', '--out', 'none.json', '--db', 'notes.sqlite');
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/note: the run recorded no component timeline/);
    const events = JSON.parse(readFileSync(join(tmp.dir, 'none.json'), 'utf8')).traceEvents as TraceEvent[];
    expect(events.filter((e) => e.ph === 'X').length).toBe(stored(1, join(tmp.dir, 'notes.sqlite')).result!.ops.length);

    const coarse = tmp.write('coarse.json', tinyExperiment({ sampling: { timelineIntervals: 40 } }));
    expect(hetmem(tmp.dir, 'run', coarse, '--db', 'notes.sqlite').code).toBe(0);
    const r = hetmem(tmp.dir, 'trace', '2', '--out', 'coarse.trace.json', '--db', 'notes.sqlite');
    expect(r.stdout).toMatch(
      /note: to keep within sampling\.timelineIntervals = 40, \d+ of \d+ components had idle gaps closed \([\d,]+ gaps, the longest [\d,.]+ ns\)/,
    );
    const slices = (
      JSON.parse(readFileSync(join(tmp.dir, 'coarse.trace.json'), 'utf8')).traceEvents as TraceEvent[]
    ).filter((e) => e.ph === 'X' && e.args && 'busy_fraction' in e.args);
    expect(slices.length).toBeGreaterThan(0);
    expect(slices.every((e) => (e.args!.busy_fraction as number) > 0 && (e.args!.busy_fraction as number) < 1)).toBe(
      true,
    );
  });

  it('refuses a run that is not done, an existing --out without --overwrite and a non-JSON name', () => {
    expect(hetmem(tmp.dir, 'trace', '3', '--out', 't3.json', '--db', 'runs.sqlite').stderr).toMatch(
      /RUN: run 3 is failed; only a finished \(done\) run has a timeline/,
    );
    expect(existsSync(join(tmp.dir, 't3.json'))).toBe(false);
    const before = statSync(join(tmp.dir, 'run1.trace.json')).mtimeMs;
    expect(hetmem(tmp.dir, 'trace', '1', '--out', 'run1.trace.json', '--db', 'runs.sqlite')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/already exists; choose a new file name, or add --overwrite/),
    });
    expect(statSync(join(tmp.dir, 'run1.trace.json')).mtimeMs).toBe(before);
    expect(hetmem(tmp.dir, 'trace', '1', '--out', 'run1.csv', '--db', 'runs.sqlite').stderr).toMatch(
      /does not end with \.json/,
    );
  });
});
