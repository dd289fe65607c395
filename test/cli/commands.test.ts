/** validate, schema, presets, runs, export and import, and the help texts. */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BIN, dbFiles, ensureBuilt, hetmem, ROOT, tempFolder, tinyExperiment } from './helpers.js';
import { MODEL_VERSION } from '../../src/sim/result/version.js';

const tmp = tempFolder();
beforeAll(ensureBuilt);
afterAll(tmp.remove);

describe('hetmem validate', () => {
  it('says valid and exits 0', () => {
    tmp.write('ok.json', tinyExperiment());
    const r = hetmem(tmp.dir, 'validate', 'ok.json');
    expect(r).toMatchObject({ code: 0, stdout: 'ok.json: valid\n', stderr: '' });
    expect(dbFiles(tmp.dir)).toEqual([]);
  });

  it('lists every issue as FILE: path: message and exits 2', () => {
    tmp.write('bad.json', {
      ...tinyExperiment({ hardware: { preset: 'gpu-pcie4-hbm2', link: { lanes: 3, lanse: 1 } } }),
    });
    const r = hetmem(tmp.dir, 'validate', 'bad.json');
    expect(r.code).toBe(2);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(2);
    expect(lines).toContainEqual(
      expect.stringMatching(/^bad\.json: hardware\.link\.lanes: 3 is not a PCIe link width/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^bad\.json: hardware\.link\.lanse: unknown field; did you mean "lanes"\?$/),
    );
    expect(r.stderr).toBe('hetmem: bad.json is not a valid experiment (2 problems)\n');
  });

  it('accepts every example experiment that ships', () => {
    const dir = join(ROOT, 'resources', 'experiments');
    const r = hetmem(dir, 'presets');
    const files = [...r.stdout.matchAll(/^ {2}(\S+\.json)/gm)].map((m) => m[1]);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const r = hetmem(dir, 'validate', f);
      expect(r.code).toBe(0);
      // An example with a sweep says how many points it makes.
      expect(r.stdout).toMatch(new RegExp(`^${f.replace('.', '\\.')}: valid( \\(a sweep of \\d+ points\\))?\n$`));
    }
  });
});

describe('hetmem schema', () => {
  it('prints the JSON Schema of experiments', () => {
    const r = hetmem(tmp.dir, 'schema');
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.properties.hardware).toBeDefined();
    expect(schema.properties.workload).toBeDefined();
  });

  it('stops quietly when its reader closes the pipe early (hetmem schema | head -c 10)', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" schema | head -c 10`], {
      cwd: tmp.dir,
      encoding: 'utf8',
    });
    expect(r.stdout).toHaveLength(10);
    expect(r.stderr).toBe('');
  });
});

describe('hetmem presets', () => {
  it('lists the hardware presets with their descriptions, and the example experiments', () => {
    const r = hetmem(tmp.dir, 'presets');
    expect(r.code).toBe(0);
    for (const name of ['gpu-pcie4-hbm2', 'accel-pcie5-ats', 'cxl-coherent', 'npu-64k-pages']) {
      expect(r.stdout).toMatch(new RegExp(`^ {2}${name} +\\S`, 'm'));
    }
    expect(r.stdout).toMatch(/PCIe/);
    expect(r.stdout).toMatch(/example experiments/);
    expect(r.stdout).toMatch(/gpu-stream-hmm-mirror\.json/);
  });
});

describe('hetmem runs, export and import', () => {
  it('lists runs, exports them to .sqlite, .csv and .json, and imports without duplicates', () => {
    tmp.write('a.json', tinyExperiment({ name: 'first' }));
    tmp.write('b.json', tinyExperiment({ name: 'second', seed: 3 }));
    expect(hetmem(tmp.dir, 'run', 'a.json', '--db', 'main.sqlite').code).toBe(0);
    expect(hetmem(tmp.dir, 'run', 'b.json', '--db', 'main.sqlite').code).toBe(0);

    const runs = hetmem(tmp.dir, 'runs', '--db', 'main.sqlite');
    expect(runs.code).toBe(0);
    expect(runs.stdout).toMatch(/^id\s+status\s+name/);
    expect(runs.stdout).toMatch(/^ 1\s+done\s+first\s+hmm-mirror\s+stream\s+1\s/m);
    expect(runs.stdout).toMatch(/^ 2\s+done\s+second\s+hmm-mirror\s+stream\s+3\s/m);

    const toSqlite = hetmem(tmp.dir, 'export', '--db', 'main.sqlite', '--runs', '2', '--out', 'one.sqlite');
    expect(toSqlite).toMatchObject({ code: 0, stdout: 'exported run 2 to one.sqlite\n' });
    const toCsv = hetmem(tmp.dir, 'export', '--db', 'main.sqlite', '--runs', '1,2', '--out', 'm.csv');
    expect(toCsv.code).toBe(0);
    const csv = readFileSync(join(tmp.dir, 'm.csv'), 'utf8');
    expect(csv.split('\r\n')[0]).toBe('run_id,run_name,strategy,workload,seed,status,metric,value,unit');
    expect(csv).toMatch(/\r\n2,second,hmm-mirror,stream,3,done,sim\.time_ns,[\d.]+,ns\r\n/);
    expect(hetmem(tmp.dir, 'export', '--db', 'main.sqlite', '--runs', '1-2', '--out', 'm.json').code).toBe(0);
    const json = JSON.parse(readFileSync(join(tmp.dir, 'm.json'), 'utf8'));
    expect(json.map((d: { run: { id: number } }) => d.run.id)).toEqual([1, 2]);
    expect(json[0].result.metrics['sim.time_ns'].value).toBeGreaterThan(0);

    // An existing --out is kept unless --overwrite.
    const again = hetmem(tmp.dir, 'export', '--db', 'main.sqlite', '--runs', '1', '--out', 'm.json');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/--out: m\.json already exists; .*--overwrite/);
    expect(hetmem(tmp.dir, 'export', '--db', 'main.sqlite', '--runs', '1', '--out', 'm.json', '--overwrite').code).toBe(
      0,
    );

    const first = hetmem(tmp.dir, 'import', '--db', 'other.sqlite', 'one.sqlite');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^imported 1 run from one\.sqlite into other\.sqlite; skipped 0 runs/);
    const second = hetmem(tmp.dir, 'import', '--db', 'other.sqlite', 'one.sqlite');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^imported 0 runs .*; skipped 1 run/);
    expect(hetmem(tmp.dir, 'runs', '--db', 'other.sqlite').stdout).toMatch(/^ 1\s+done\s+second\s/m);
  });

  it('export of a run id that does not exist: exit 2, how to list the runs, no file written', () => {
    tmp.write('c.json', tinyExperiment());
    expect(hetmem(tmp.dir, 'run', 'c.json', '--db', 'c.sqlite').code).toBe(0);
    for (const out of ['x.sqlite', 'x.csv', 'x.json']) {
      const r = hetmem(tmp.dir, 'export', '--db', 'c.sqlite', '--runs', '1,7', '--out', out);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        'hetmem: --runs: run 7 does not exist in c.sqlite; `hetmem runs --db c.sqlite` lists the runs\n',
      );
      expect(existsSync(join(tmp.dir, out))).toBe(false);
    }
  });

  it('an invalid run creates no database, so runs on its path is still an error', () => {
    tmp.write('d.json', tinyExperiment({ hardware: { preset: 'nope' } }));
    expect(hetmem(tmp.dir, 'run', 'd.json', '--db', 'empty.sqlite').code).toBe(2);
    const r = hetmem(tmp.dir, 'runs', '--db', 'empty.sqlite');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--db: empty\.sqlite does not exist/);
  });
});

describe('help', () => {
  it('hetmem --help lists every command and an example', () => {
    const r = hetmem(tmp.dir, '--help');
    expect(r.code).toBe(0);
    // Each command's module is loaded only when needed: for the overview, all of them.
    const all = ['run', 'validate', 'schema', 'presets', 'runs', 'show', 'compare', 'tag', 'trace', 'export'];
    for (const c of [...all, 'import', 'sweep', 'worker']) {
      expect(r.stdout).toMatch(new RegExp(`^ {2}${c}\\b`, 'm'));
    }
    expect(r.stdout).toMatch(/Examples:\n {2}\$ hetmem /);
    expect(r.stdout).toMatch(/Exit status/);
  });

  it('each command has its options and an example', () => {
    for (const [c, options] of [
      ['run', ['--db', '--json', '--seed']],
      ['validate', []],
      ['schema', []],
      ['presets', []],
      ['runs', ['--db']],
      ['export', ['--db', '--runs', '--out', '--overwrite']],
      ['import', ['--db']],
      ['sweep', ['--db', '--workers', '--metric', '--shard', '--redis', '--queue']],
      ['worker', ['--redis', '--concurrency', '--queue']],
    ] as const) {
      const r = hetmem(tmp.dir, c, '--help');
      expect(r.code, c).toBe(0);
      expect(r.stdout).toContain(`Usage: hetmem ${c}`);
      for (const o of options) expect(r.stdout, `${c} ${o}`).toContain(o);
      expect(r.stdout, c).toMatch(/Examples?:\n {2}\$ hetmem /);
    }
  });

  it('a misspelt command: exit 2 with the closest command, found among all of them', () => {
    const r = hetmem(tmp.dir, 'swep', 'x.json');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'swep'\n\(Did you mean sweep\?\)/);
  });

  it('--version and -V print the model version', () => {
    for (const flag of ['--version', '-V']) {
      const r = hetmem(tmp.dir, flag);
      expect(r.code, flag).toBe(0);
      expect(r.stdout, flag).toBe(`${MODEL_VERSION}\n`);
    }
  });

  it('no command: the help on stderr and exit 2', () => {
    const r = hetmem(tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Usage: hetmem/);
  });
});

describe('bin/hetmem.js', () => {
  it('says how to build when dist/ is missing, and exits 1', () => {
    // A copy of the shim in a folder with no dist/ beside it.
    mkdirSync(join(tmp.dir, 'unbuilt', 'bin'), { recursive: true });
    const shim = join(tmp.dir, 'unbuilt', 'bin', 'hetmem.js');
    copyFileSync(BIN, shim);
    const r = spawnSync(process.execPath, [shim, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('hetmem: not built; run `npm run build:node`\n');
  });
});
