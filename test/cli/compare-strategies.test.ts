/**
 * The comparison experiment (resources/experiments/compare-strategies.json): every
 * strategy on one machine and one workload, run by `hetmem sweep` on real worker threads
 * into a real SQLite file, then shown side by side with attribution by `hetmem compare`.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRATEGY_NAMES } from '../../src/sim/mm/strategies/index.js';
import { ensureBuilt, hetmem, tempFolder } from './helpers.js';

const tmp = tempFolder();
beforeAll(ensureBuilt);
afterAll(tmp.remove);

const example = resolve(import.meta.dirname, '../../resources/experiments/compare-strategies.json');

describe('comparing every strategy', () => {
  it('the example sweeps every strategy; the sweep names the compare command, which shows them side by side with attribution', () => {
    const doc = JSON.parse(readFileSync(example, 'utf8'));
    const swept = doc.sweep.axes[0].values.map((v: { impl: string }) => v.impl);
    expect(new Set(swept)).toEqual(new Set(STRATEGY_NAMES));

    const db = join(tmp.dir, 'strategies.sqlite');
    const sweep = hetmem(tmp.dir, 'sweep', example, '--db', db, '--workers', '2');
    expect(sweep.code).toBe(0);
    for (const s of STRATEGY_NAMES) expect(sweep.stdout).toContain(`{"impl":"${s}"}`);
    const hint = /hetmem compare ([\d ]+) --db (\S+)/.exec(sweep.stderr);
    expect(hint).not.toBeNull();
    const ids = hint![1].split(' ');
    expect(ids).toHaveLength(STRATEGY_NAMES.length);

    const compare = hetmem(tmp.dir, 'compare', ...ids, '--db', db, '--metric', 'sim.time_ns');
    expect(compare.code).toBe(0);
    for (const s of STRATEGY_NAMES) expect(compare.stdout).toMatch(new RegExp(`\\s${s}\\s+stream\\s`));
    const attribution = compare.stdout.split('time attribution')[1];
    // One line per run for the CPU and one for the device, each with its shares.
    for (const id of ids) expect(attribution).toMatch(new RegExp(`\\n\\s*${id}\\s+cxl0\\s+384\\s+[\\d.]+%`));
  });
});
