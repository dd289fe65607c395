/**
 * Every kind of bad input exits 2 with a message that names the JSON path or argument and
 * says what would be valid, and writes nothing: not even the database file is created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbFiles, ensureBuilt, hetmem, tempFolder, tinyExperiment } from './helpers.js';

const tmp = tempFolder();
beforeAll(ensureBuilt);
afterAll(tmp.remove);

/** Runs hetmem in a fresh folder and checks: exit 2, nothing on stdout, no database file. */
function rejects(files: Record<string, unknown>, ...args: string[]): string {
  const f = tempFolder();
  try {
    for (const [name, content] of Object.entries(files)) f.write(name, content);
    const r = hetmem(f.dir, ...args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^hetmem: /);
    expect(dbFiles(f.dir)).toEqual([]);
    return r.stderr;
  } finally {
    f.remove();
  }
}

const withLink = (link: Record<string, unknown>) => tinyExperiment({ hardware: { preset: 'gpu-pcie4-hbm2', link } });

describe('bad input to hetmem run', () => {
  it('an unknown field: names its path and suggests the closest valid name', () => {
    const err = rejects({ 'e.json': withLink({ lanse: 8 }) }, 'run', 'e.json');
    expect(err).toMatch(/^hetmem: e\.json: hardware\.link.*lanse/);
    expect(err).toMatch(/did you mean "lanes"/);
  });

  it('a PCIe link of 3 lanes: names the path and lists the valid widths', () => {
    const err = rejects({ 'e.json': withLink({ lanes: 3 }) }, 'run', 'e.json', '--db', 'x.sqlite');
    expect(err).toContain('hetmem: e.json: hardware.link.lanes: 3 ');
    expect(err).toMatch(/1, 2, 4, 8 or 16/);
  });

  it('every problem of a document is reported, one per line', () => {
    const doc = { ...withLink({ lanes: 3 }), workload: { impl: 'stream', arrayBytes: '1MiB', iterashuns: 1 } };
    const err = rejects({ 'e.json': doc }, 'run', 'e.json');
    expect(err).toContain('hardware.link.lanes');
    expect(err).toContain('iterashuns');
  });

  it('malformed JSON: the line and column of the syntax error', () => {
    const text = '{\n  "name": "x",\n  "seed": 1\n  "hardware": {}\n}\n';
    const err = rejects({ 'e.json': text }, 'run', 'e.json');
    expect(err).toMatch(/^hetmem: e\.json: line 4, column 3: invalid JSON: expected ',' or '}'/);
  });

  it('malformed JSON: a trailing comma and an unclosed comment are explained', () => {
    expect(rejects({ 'e.json': '{"name": "x",\n}' }, 'run', 'e.json')).toMatch(/line 1, column 13: .*trailing comma/);
    expect(rejects({ 'e.json': '{\n /* note\n}' }, 'run', 'e.json')).toMatch(
      /line 2, column 2: .*comment is not closed/,
    );
  });

  it('a missing experiment file', () => {
    const err = rejects({}, 'run', 'nope.json');
    expect(err).toMatch(/^hetmem: nope\.json: no such file; give the path of an experiment JSON file/);
  });

  it('a bad --seed', () => {
    for (const seed of ['abc', '-1', '1.5', '4294967296']) {
      const err = rejects({ 'e.json': tinyExperiment() }, 'run', 'e.json', '--seed', seed);
      expect(err).toContain(`hetmem: --seed: "${seed}" is not a seed; use a whole number from 0 to 4294967295`);
    }
  });

  it('an unknown hardware preset: the valid names and the closest one', () => {
    const doc = tinyExperiment({ hardware: { preset: 'gpu-pcie4-hbm3' } });
    const err = rejects({ 'e.json': doc }, 'run', 'e.json');
    expect(err).toMatch(/hardware\.preset: "gpu-pcie4-hbm3" is not a hardware preset; use .*"npu-64k-pages"/);
    expect(err).toMatch(/did you mean "gpu-pcie4-hbm2"/);
  });

  it("a trace file that does not exist, relative to the experiment's folder", () => {
    const doc = { ...tinyExperiment(), workload: { impl: 'trace', path: 'gone.trace' } };
    const err = rejects({ 'sub/e.json': doc }, 'run', 'sub/e.json');
    expect(err).toMatch(/workload\.path: "gone\.trace" \(resolved against .*sub.*\) does not exist/);
  });

  it('an unknown option, with a suggestion, and a missing argument', () => {
    expect(rejects({ 'e.json': tinyExperiment() }, 'run', 'e.json', '--sed', '3')).toMatch(
      /unknown option '--sed'[\s\S]*--seed/,
    );
    expect(rejects({}, 'run')).toMatch(/missing required argument 'file'/);
    expect(rejects({}, 'frobnicate')).toMatch(/unknown command 'frobnicate'/);
  });

  it('a --db in a folder that does not exist', () => {
    expect(rejects({ 'e.json': tinyExperiment() }, 'run', 'e.json', '--db', 'no/such/dir/x.sqlite')).toMatch(
      /--db: the folder .* does not exist/,
    );
  });
});

describe('bad input to the other commands', () => {
  it('runs and export need an existing database, and do not create one', () => {
    expect(rejects({}, 'runs', '--db', 'none.sqlite')).toMatch(/--db: none\.sqlite does not exist/);
    expect(rejects({}, 'export', '--db', 'none.sqlite', '--runs', '1', '--out', 'o.json')).toMatch(
      /--db: none\.sqlite does not exist/,
    );
  });

  it('export: a bad --runs list and an unknown extension', () => {
    expect(rejects({}, 'export', '--runs', '1,x', '--out', 'o.json')).toMatch(
      /--runs: "1,x" is not a list of run ids.*--runs 1,2/,
    );
    expect(rejects({}, 'export', '--runs', '1', '--out', 'o.txt')).toMatch(
      /--out: o\.txt has the extension \.txt, which is not an export format; end it with \.sqlite .*\.csv or \.json/,
    );
  });

  it('import: a file that is not a workbench database, or is missing', () => {
    expect(rejects({ 'e.json': tinyExperiment() }, 'import', 'e.json')).toMatch(/e\.json is not an SQLite database/);
    expect(rejects({}, 'import', 'gone.sqlite')).toMatch(/gone\.sqlite: no such file/);
  });
});

describe('what validates also runs', () => {
  it('a huge latency is refused by validate with the reason for its bound', () => {
    const err = rejects(
      { 'e.json': tinyExperiment({ hardware: { preset: 'gpu-pcie4-hbm2', cpu: { pageFaultNs: 1e12 } } }) },
      'run',
      'e.json',
    );
    expect(err).toContain(
      'e.json: hardware.cpu.pageFaultNs: 1000000000000 is out of range; use a number from 0 to 1000000000 (at most 1 s: no single hardware or driver step takes longer)',
    );
  });

  it('a fault buffer of 1e300 entries is refused, not a typed-array crash', () => {
    const doc = tinyExperiment({ hardware: { preset: 'gpu-pcie4-hbm2', device: { faultBuffer: { entries: 1e300 } } } });
    expect(rejects({ 'e.json': doc }, 'run', 'e.json')).toMatch(/faultBuffer\.entries: 1e\+300 is out of range/);
  });

  it('a workload larger than host memory, and a snapshot too large to store, are refused by validate', () => {
    const big = tinyExperiment({ workload: { impl: 'stream', arrayBytes: '1TiB', iterations: 1 } });
    const r = hetmem(tmp.dir, 'validate', tmp.write('big.json', big));
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/workload: the workload maps 3 TiB, more than the host's memory/);
    const snapshot = tinyExperiment({
      workload: {
        impl: 'scripted',
        ops: [
          { op: 'mmap', name: 'a', sizeBytes: '40GiB' },
          { op: 'snapshot', region: 'a' },
        ],
      },
    });
    const s = hetmem(tmp.dir, 'validate', tmp.write('snap.json', snapshot));
    expect(s.code).toBe(2);
    expect(s.stdout).toMatch(
      /workload\.ops\[1\]\.sizeBytes: op 1 \(snapshot\): a snapshot of 10485760 pages is too large/,
    );
  });

  it('nesting 3000 levels deep exits 2 with a message, not 1 with a stack overflow', () => {
    const deep = `{"name":"x","description":${'['.repeat(3000)}${']'.repeat(3000)}}`;
    const err = rejects({ 'e.json': deep }, 'run', 'e.json');
    expect(err).toMatch(/e\.json: description(\[0\])+: nested more than 32 levels deep/);
  });

  it('a run that would pass the 2^53 ps horizon fails cleanly, naming the horizon', () => {
    const slow = tinyExperiment({
      hardware: { preset: 'gpu-pcie4-hbm2', driver: { perFaultNs: 1e9, perPageNs: 1e9 } },
      workload: { impl: 'gather', tableBytes: '64MiB', accesses: 20000 },
    });
    const r = hetmem(tmp.dir, 'run', tmp.write('slow.json', slow), '--db', 'slow.sqlite');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^hetmem: run 1 failed: simulated time would reach .* past the horizon of 2\^53 ps/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
