/** `hetmem runs`: the runs recorded in a database, filtered, as a table or JSON. */
import type { Command } from 'commander';
import { RUN_STATUSES, type ListRunsFilter, type RunStatus } from '../../shared/api.js';
import { createWorkbench } from '../../main/services/workbench/index.js';
import { MODEL_VERSION } from '../../sim/result/version.js';
import { DEFAULT_DB, withReadStore } from '../args.js';
import { invalid } from '../errors.js';
import { formatMs, table } from '../format.js';

interface RunsFlags {
  db: string;
  json?: boolean;
  strategy?: string;
  workload?: string;
  status?: string;
  tag?: string;
  name?: string;
}

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list the runs recorded in a database (read only: the file is never changed)')
    .option('--db <path>', 'SQLite database to read (it must exist)', DEFAULT_DB)
    .option('--json', "print the runs as JSON: each with its tags and key metrics, as the app's runs list has them")
    .option('--strategy <impl>', 'only runs of this strategy, e.g. hmm-mirror')
    .option('--workload <impl>', 'only runs of this workload, e.g. stream')
    .option('--status <status>', `only runs in this state: ${RUN_STATUSES.join(', ')}`)
    .option('--tag <tag>', 'only runs with this tag')
    .option('--name <text>', 'only runs whose name contains this text (any case)')
    .addHelpText(
      'after',
      `
Examples:
  $ hetmem runs --db hetmem.sqlite
  $ hetmem runs --strategy hmm-mirror --status done --tag baseline --json`,
    )
    .action(async (flags: RunsFlags) => {
      const filter = runsFilter(flags);
      await withReadStore(flags.db, async (store) => {
        if (flags.json) {
          // The app's own listing, so both show the same key metrics.
          const { api } = createWorkbench(store, { databasePath: flags.db, modelVersion: MODEL_VERSION });
          process.stdout.write(`${JSON.stringify(await api.listRuns(filter), null, 2)}\n`);
          return;
        }
        const runs = store.listRuns(filter);
        if (runs.length === 0) {
          const filtered = Object.keys(filter).length > 0;
          process.stdout.write(`no runs in ${flags.db}${filtered ? ' match these filters' : ''}\n`);
          return;
        }
        const rows = runs.map((r) => [
          String(r.id),
          r.status,
          r.name,
          r.strategy,
          r.workload,
          String(r.seed),
          r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
          r.wallMs === null ? '-' : formatMs(r.wallMs),
          r.tags.join(', '),
          r.error ?? '',
        ]);
        const header = [
          'id',
          'status',
          'name',
          'strategy',
          'workload',
          'seed',
          'started (UTC)',
          'wall',
          'tags',
          'error',
        ];
        process.stdout.write(`${table(header, rows, new Set([0, 5, 7])).join('\n')}\n`);
      });
    });
}

function runsFilter(flags: RunsFlags): ListRunsFilter {
  const filter: ListRunsFilter = {};
  if (flags.status !== undefined) {
    if (!(RUN_STATUSES as readonly string[]).includes(flags.status)) {
      throw invalid(`--status: ${JSON.stringify(flags.status)} is not a run status; use ${RUN_STATUSES.join(', ')}`);
    }
    filter.status = flags.status as RunStatus;
  }
  if (flags.strategy !== undefined) filter.strategy = flags.strategy;
  if (flags.workload !== undefined) filter.workload = flags.workload;
  if (flags.tag !== undefined) filter.tag = flags.tag;
  if (flags.name !== undefined) filter.nameContains = flags.name;
  return filter;
}
