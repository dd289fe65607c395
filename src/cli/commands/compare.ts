/**
 * `hetmem compare RUN RUN...`: runs side by side, from the same services and the same
 * comparison as the app's compare view (src/shared/compare.ts): metrics with each run's
 * difference from the first, the experiment fields that differ, and where the time went.
 */
import type { Command } from 'commander';
import { compareKeyMetrics, isKeyMetric } from '../../shared/api.js';
import { experimentDifferences, metricRows } from '../../shared/compare.js';
import { createWorkbench } from '../../main/services/workbench/index.js';
import { MODEL_VERSION } from '../../sim/result/version.js';
import { DEFAULT_DB, parseRunIds, requireRunsArg, withReadStore } from '../args.js';
import { invalid } from '../errors.js';
import { attributionTable, formatNumber, printable, table } from '../format.js';

interface CompareFlags {
  db: string;
  metric: string[];
  json?: boolean;
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('show runs side by side: metrics with differences, the experiment fields that differ, attribution')
    .argument('<runs...>', 'two or more run ids, or ranges: 3 4, or 3-6')
    .option('--db <path>', 'SQLite database holding the runs (it must exist)', DEFAULT_DB)
    .option(
      '--metric <name>',
      'show only this metric (repeatable); default every metric of any of the runs',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option('--json', 'print the comparison as JSON')
    .addHelpText(
      'after',
      `
Differences are relative to the first run given, in percent of its value. Experiment
fields are compared after presets and defaults are filled in; "name" and "description"
are left out. The app's compare view shows the same numbers.

Examples:
  $ hetmem compare 3 4 --db results.sqlite
  $ hetmem compare 1-5 --metric sim.time_ns --metric device.page_faults
  $ hetmem compare 3 4 --json > comparison.json`,
    )
    .action(async (runTexts: string[], flags: CompareFlags) => compareCommand(runTexts, flags));
}

async function compareCommand(runTexts: string[], flags: CompareFlags): Promise<void> {
  const ids = [...new Set(runTexts.flatMap((t) => parseRunIds(t, 'RUNS')))];
  if (ids.length < 2) throw invalid(`RUNS: give at least two different runs to compare (got ${ids.join(', ')})`);
  await withReadStore(flags.db, async (store) => {
    requireRunsArg('RUNS', () => store.requireRuns(ids));
    const { api } = createWorkbench(store, { databasePath: flags.db, modelVersion: MODEL_VERSION });
    const runs = await api.compareRuns(ids);
    const details = await Promise.all(ids.map((id) => api.getRun(id)));
    // Key metrics (the runs list's columns) first, then the rest by name.
    const known = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort(
      (a, b) => Number(!isKeyMetric(a)) - Number(!isKeyMetric(b)) || compareKeyMetrics(a, b),
    );
    const unknown = flags.metric.filter((m) => !known.includes(m));
    if (unknown.length) {
      throw invalid(
        `--metric: ${unknown.map((m) => JSON.stringify(m)).join(', ')} is not a metric of these runs; they have ${known.join(', ') || 'none (no run is done)'}`,
      );
    }
    const rows = metricRows(runs, flags.metric.length ? flags.metric : known);
    const { flat, paths } = experimentDifferences(runs);
    const attribution = details.map((d, i) => ({ runId: ids[i]!, attribution: d?.attribution ?? [] }));

    if (flags.json) {
      const out = {
        runs: runs.map(({ experiment: _e, metrics: _m, keyMetrics: _km, ...r }) => r),
        metrics: rows,
        differences: paths.map((path) => ({ path, values: flat.map((f) => f[path] ?? null) })),
        attribution,
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    const head = ids.map((id) => `run ${id}`);
    const out = [
      ...table(
        ['run', 'name', 'strategy', 'workload', 'seed', 'status'],
        runs.map((r) => [String(r.id), r.name, r.strategy, r.workload, String(r.seed), r.status]),
        new Set([0, 4]),
      ),
      '',
      `metrics (difference from run ${ids[0]})`,
      ...table(
        ['metric', 'unit', ...head],
        rows.map((row) => [
          row.name,
          row.unit,
          ...row.values.map((v, i) => {
            if (v === null) return '-';
            const p = row.percentFromFirst[i];
            return p === null || p === undefined
              ? formatNumber(v)
              : `${formatNumber(v)} (${p > 0 ? '+' : ''}${p.toFixed(1)}%)`;
          }),
        ]),
        new Set(head.map((_, i) => i + 2)),
      ).map((l) => `  ${l}`),
      '',
      paths.length ? 'experiment fields that differ' : 'the experiments are the same apart from their names',
      ...(paths.length
        ? table(
            ['field', ...head],
            paths.map((p) => [p, ...flat.map((f) => (f[p] === undefined ? '-' : JSON.stringify(f[p])))]),
          ).map((l) => `  ${l}`)
        : []),
    ];
    const agents = attribution.flatMap((a) => a.attribution.map((x) => ({ label: [String(a.runId)], attribution: x })));
    if (agents.length) {
      out.push('', "time attribution (share of each agent's simulated time)");
      out.push(...attributionTable(agents, ['run']).map((l) => `  ${l}`));
    }
    process.stdout.write(`${out.map(printable).join('\n')}\n`);
  });
}
