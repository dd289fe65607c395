/** `hetmem runs`: the runs recorded in a database. */
import type { Command } from 'commander';
import { DEFAULT_DB, withReadStore } from '../args.js';
import { formatMs, table } from '../format.js';

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list the runs recorded in a database (read only: the file is never changed)')
    .option('--db <path>', 'SQLite database to read (it must exist)', DEFAULT_DB)
    .addHelpText(
      'after',
      `
Example:
  $ hetmem runs --db hetmem.sqlite`,
    )
    .action((flags: { db: string }) => {
      withReadStore(flags.db, (store) => {
        const runs = store.listRuns();
        if (runs.length === 0) {
          process.stdout.write(`no runs in ${flags.db}\n`);
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
          r.error ?? '',
        ]);
        const header = ['id', 'status', 'name', 'strategy', 'workload', 'seed', 'started (UTC)', 'wall', 'error'];
        process.stdout.write(`${table(header, rows, new Set([0, 5, 7])).join('\n')}\n`);
      });
    });
}
