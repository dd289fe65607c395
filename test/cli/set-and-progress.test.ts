/**
 * `hetmem run --set`, the progress bar on a real pseudo-terminal (util-linux `script`), and
 * the pass/fail line of scripted runs.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressLine } from '../../src/cli/run-progress.js';
import { Store } from '../../src/main/services/store/store.js';
import { BIN, dbFiles, ensureBuilt, hetmem, tempFolder, tinyExperiment } from './helpers.js';

const tmp = tempFolder();
beforeAll(ensureBuilt);
afterAll(tmp.remove);

function experimentOf(db: string, id: number) {
  const store = Store.openReadOnly(join(tmp.dir, db));
  try {
    return JSON.parse(store.getRun(id).experimentJson);
  } finally {
    store.close();
  }
}

describe('hetmem run --set', () => {
  it('overrides fields beside a preset, repeatably; values are JSON when they parse, else text', () => {
    const file = tmp.write('tiny.json', tinyExperiment());
    const r = hetmem(
      tmp.dir,
      'run',
      file,
      '--db',
      'set.sqlite',
      '--set',
      'hardware.link.lanes=8',
      '--set',
      'workload.arrayBytes=2MiB',
      '--set',
      'name="renamed"',
    );
    expect(r.code, r.stderr).toBe(0);
    const exp = experimentOf('set.sqlite', 1);
    expect(exp.hardware.link.lanes).toBe(8);
    expect(exp.workload.arrayBytes).toBe(2 * 1024 * 1024);
    expect(exp.name).toBe('renamed');
    // Untouched preset fields stay the preset's.
    expect(exp.hardware.link.generation).toBe(4);
  });

  const refused: [string, string[], RegExp][] = [
    [
      "a value the field refuses, in the validator's words",
      ['hardware.link.lanes=3'],
      /^hetmem: --set hardware\.link\.lanes=3: hardware\.link\.lanes: 3 is not a PCIe link width; use 1, 2, 4, 8 or 16\n$/,
    ],
    [
      'a misspelt field, with the closest name',
      ['hardware.link.lane=8'],
      /^hetmem: --set hardware\.link\.lane=8: "hardware\.link\.lane" does not exist: "hardware\.link" has no field "lane"; did you mean "hardware\.link\.lanes"\?\n$/,
    ],
    [
      'a device that does not exist',
      ['hardware.devices[3].computeUnits=4'],
      /--set hardware\.devices\[3\]\.computeUnits=4: .*has no entry 3; it has 1 entries\n$/,
    ],
    [
      'no "="',
      ['hardware.link.lanes'],
      /--set hardware\.link\.lanes: "hardware\.link\.lanes" has no "="; write PATH=VALUE/,
    ],
    ['not a path', ['hardware..lanes=8'], /"hardware\.\.lanes" is not a JSON path/],
    [
      'an ambiguous size',
      ['workload.arrayBytes=2MB'],
      /--set workload\.arrayBytes=2MB: workload\.arrayBytes: "2MB" is ambiguous/,
    ],
  ];
  for (const [what, sets, message] of refused) {
    it(`refuses ${what}: exit 2, nothing written`, () => {
      const file = tmp.write('tiny.json', tinyExperiment());
      const r = hetmem(tmp.dir, 'run', file, '--db', 'refused.sqlite', ...sets.flatMap((s) => ['--set', s]));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(dbFiles(tmp.dir).filter((f) => f.startsWith('refused'))).toEqual([]);
    });
  }

  it('problems of the file itself are still named by the file', () => {
    const file = tmp.write('bad.json', tinyExperiment({ strategy: { impl: 'hmm-mirorr' } }));
    const r = hetmem(tmp.dir, 'run', file, '--db', 'refused.sqlite', '--set', 'hardware.link.lanes=8');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hetmem: .*bad\.json: strategy\.impl: /);
  });
});

describe('the progress bar', () => {
  const state = { fraction: 0.5, elapsedMs: 2000, eventsPerSecond: 123456, simTimeNs: 1.5e6, phase: 'kernel 1' };

  it('shows elapsed time, time left, events per second, simulated time and fits the width', () => {
    for (const width of [40, 80, 200]) {
      const line = progressLine(state, width);
      expect(line.length).toBeLessThanOrEqual(width - 1);
    }
    expect(progressLine(state, 200)).toMatch(
      /^\[#{20}-{20}\] {2}50% \| 2\.0s elapsed \| 2\.0s left \| 123,456 events\/s \| sim 1\.5 ms \| kernel 1$/,
    );
    expect(progressLine({ ...state, fraction: 0.01 }, 200)).toContain('? left');
  });

  it('is drawn on a terminal and cut to its width (a real pty of 60 columns)', () => {
    tmp.write('gather.json', {
      ...tinyExperiment(),
      workload: { impl: 'gather', tableBytes: '64MiB', accesses: 300000 },
    });
    const command = `stty cols 60; ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} run gather.json --db pty.sqlite > /dev/null`;
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: tmp.dir, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    // eslint-disable-next-line no-control-regex
    const lines = r.stdout.split(/\x1b\[1G/).map((l) => l.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]|\r|\n/g, ''));
    const bars = lines.filter((l) => l.startsWith('['));
    expect(bars.length).toBeGreaterThan(0);
    for (const bar of bars) {
      expect(bar.length).toBeLessThanOrEqual(59);
      expect(bar).toMatch(/^\[[#-]{10,}\] +\d+% \| [\d.]+m?s elapsed \| /);
    }
  });
});

describe('scripted runs end with a pass/fail line', () => {
  const script = (expectRead: string) => ({
    name: 'script',
    hardware: { device: { computeUnits: 2, contextsPerUnit: 2, mmu: { pageSizeBytes: '4KiB' } } },
    strategy: { impl: 'hmm-mirror' },
    workload: {
      impl: 'scripted',
      ops: [
        { op: 'mmap', name: 'buf', sizeBytes: '8KiB', prot: 'read' },
        { op: 'dev.write', region: 'buf', expect: 'EPERM' },
        { op: 'dev.read', region: 'buf', expect: expectRead },
      ],
    },
  });

  it('PASS and exit 0 when every outcome is the expected one', () => {
    const r = hetmem(tmp.dir, 'run', tmp.write('pass.json', script('ok')), '--db', 'script.sqlite');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\nPASS: all 3 checked operations had their expected outcome\n$/);
  });

  it('FAIL and exit 1 when one differs; the run is stored as done; --json says pass: false', () => {
    const r = hetmem(tmp.dir, 'run', tmp.write('fail.json', script('EFAULT')), '--db', 'script.sqlite');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /\nFAIL: 1 of 3 checked operations had an unexpected outcome: \[2\] ok \(expected EFAULT\)\n$/,
    );
    expect(r.stderr).toMatch(
      /^hetmem: run 2: the script had an unexpected outcome \(stored as done in script\.sqlite\)\n$/,
    );
    const store = Store.openReadOnly(join(tmp.dir, 'script.sqlite'));
    expect(store.getRun(2).status).toBe('done');
    store.close();
    const j = hetmem(tmp.dir, 'run', tmp.write('fail.json', script('EFAULT')), '--db', 'script.sqlite', '--json');
    expect(j.code).toBe(1);
    const out = JSON.parse(j.stdout);
    expect(out.pass).toBe(false);
    expect(out.result.ops[2].unexpected).toBe(true);
  });
});
