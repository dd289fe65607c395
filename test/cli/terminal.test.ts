/**
 * What reaches a terminal: control characters from names, trace lines and paths are
 * escaped; with --json, stdout holds JSON even when the command fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, hetmem, tempFolder, tinyExperiment } from './helpers.js';

const tmp = tempFolder();
beforeAll(ensureBuilt);
afterAll(tmp.remove);

const ESC = '\u001b';
const traced = (trace: string) =>
  tinyExperiment({ workload: { impl: 'trace', path: trace, regionBytes: '1MiB', format: 'dramsim3' } });

describe('control characters never reach the terminal raw', () => {
  it('an experiment name with ESC sequences is escaped by run and by runs', () => {
    const file = tmp.write('evil.json', tinyExperiment({ name: `evil${ESC}[2J${ESC}]0;pwned\u0007` }));
    const run = hetmem(tmp.dir, 'run', file, '--db', 'evil.sqlite');
    expect(run.code).toBe(0);
    const runs = hetmem(tmp.dir, 'runs', '--db', 'evil.sqlite');
    for (const out of [run.stdout, run.stderr, runs.stdout]) {
      for (const c of [ESC, '\u0007']) expect(out).not.toContain(c);
    }
    expect(runs.stdout).toContain('evil\\u001b[2J\\u001b]0;pwned\\u0007');
  });

  it('a trace line with ESC sequences is escaped in the error, and again in runs', () => {
    tmp.write('esc.trace', `0x40 READ 1\n0x80 ${ESC}[31mREAD 2\n`);
    const run = hetmem(tmp.dir, 'run', tmp.write('esc.json', traced('esc.trace')), '--db', 'esc.sqlite');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('esc.trace line 2: "0x80 \\u001b[31mREAD 2" is not a DRAMSim3 line');
    const runs = hetmem(tmp.dir, 'runs', '--db', 'esc.sqlite');
    for (const out of [run.stderr, runs.stdout]) expect(out).not.toContain(ESC);
  });

  it('an invalid value with control characters is escaped by validate', () => {
    const r = hetmem(tmp.dir, 'validate', tmp.write('v.json', tinyExperiment({ strategy: { impl: `x${ESC}[1m` } })));
    expect(r.code).toBe(2);
    expect(r.stdout).not.toContain(ESC);
  });
});

describe('--json failures print a JSON error on stdout as well as text on stderr', () => {
  it('an invalid experiment: exit 2', () => {
    const file = tmp.write('bad.json', tinyExperiment({ hardware: { preset: 'gpu-pcie4-hbm2', link: { lanes: 3 } } }));
    const r = hetmem(tmp.dir, 'run', file, '--json', '--db', 'j.sqlite');
    expect(r.code).toBe(2);
    const { error } = JSON.parse(r.stdout);
    expect(error).toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/hardware\.link\.lanes: 3 is not a PCIe link width/),
    });
    expect(r.stderr).toMatch(/^hetmem: .*hardware\.link\.lanes/);
  });

  it('a run that fails: exit 1; and an unknown option: exit 2', () => {
    tmp.write('bad.trace', '0x40 READ 1\nnonsense\n');
    const r = hetmem(tmp.dir, 'run', tmp.write('t.json', traced('bad.trace')), '--json', '--db', 'j.sqlite');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/bad\.trace line 2/),
    });
    const o = hetmem(tmp.dir, 'run', 'x.json', '--json', '--bogus');
    expect(o.code).toBe(2);
    expect(JSON.parse(o.stdout)).toEqual({ error: { exitCode: 2, message: "unknown option '--bogus'" } });
  });
});

describe('traces at their limits', () => {
  it('a cycle past the exact time horizon fails the run cleanly, naming the horizon and the trace line', () => {
    tmp.write('late.trace', `0x40 READ 1\n0x80 READ ${Number.MAX_SAFE_INTEGER}\n`);
    const r = hetmem(tmp.dir, 'run', tmp.write('late.json', traced('late.trace')), '--db', 'late.sqlite');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/late\.trace line 2: simulated time would reach .* past the horizon of 2\^53 ps/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a trace file that starts with a UTF-8 byte order mark replays', () => {
    tmp.write('bom.trace', '\ufeff0x40 READ 1\n0x80 WRITE 2\n');
    expect(hetmem(tmp.dir, 'run', tmp.write('bom.json', traced('bom.trace')), '--db', 'bom.sqlite').code).toBe(0);
  });
});
