/** `hetmem show RUN`: a stored run's summary, as `hetmem run` printed it. */
import type { Command } from 'commander';
import type { RunRecord } from '../../main/services/store/store.js';
import { DEFAULT_DB, parseRunId, requireRunsArg, withReadStore } from '../args.js';
import { formatMs, printable, runSummary, table, withoutTimeline } from '../format.js';

export function registerShow(program: Command): void {
  program
    .command('show')
    .description("print a stored run's summary: its metrics, where the time went, its phases (read only)")
    .argument('<run>', 'run id (`hetmem runs` lists them)')
    .option('--db <path>', 'SQLite database to read (it must exist)', DEFAULT_DB)
    .option(
      '--json',
      'print the run and its whole result as JSON (but the component timeline: `hetmem trace` writes it)',
    )
    .addHelpText(
      'after',
      `
A finished run is summarised exactly as \`hetmem run\` printed it (and a script's PASS or
FAIL line); a failed, cancelled or running run shows its experiment and its error.

Examples:
  $ hetmem show 3 --db results.sqlite
  $ hetmem show 3 --json > run-3.json`,
    )
    .action((runText: string, flags: { db: string; json?: boolean }) => {
      const id = parseRunId(runText);
      withReadStore(flags.db, (store) => {
        const run = requireRunsArg('RUN', () => store.getRun(id));
        if (flags.json) {
          const { experimentJson, result, ...rest } = run;
          const out = {
            ...rest,
            experiment: JSON.parse(experimentJson) as unknown,
            result: result && withoutTimeline(result),
          };
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${showLines(run, flags.db).map(printable).join('\n')}\n`);
      });
    });
}

function showLines(run: RunRecord, db: string): string[] {
  const tags: [string, string][] = run.tags.length ? [['tags', run.tags.join(', ')]] : [];
  const started: [string, string] = ['started (UTC)', run.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')];
  if (run.result) return runSummary(run.id, run.result, run.wallMs ?? 0, db, [started, ...tags]);
  const took = run.wallMs === null ? '' : ` after ${formatMs(run.wallMs)}`;
  return [
    `run ${run.id}: ${run.status}${took} (stored in ${db})`,
    ...table(
      ['', ''],
      [
        ['experiment', run.name],
        ['strategy', run.strategy],
        ['workload', run.workload],
        ['seed', String(run.seed)],
        ['model version', run.modelVersion],
        started,
        ...tags,
        ...(run.error ? [['error', run.error] as [string, string]] : []),
      ],
    ).slice(1),
  ];
}
