/** `hetmem export`: chosen runs to a new database file, CSV or JSON. */
import type { Command } from 'commander';
import { extname } from 'node:path';
import { exportRunsToCsv, exportRunsToJson, exportRunsToSqlite } from '../../main/services/store/export.js';
import {
  checkExistingDb,
  checkOutFile,
  DEFAULT_DB,
  isDamage,
  parseRunIds,
  requireRunsArg,
  withReadStore,
  writeWhole,
} from '../args.js';
import { failure, invalid } from '../errors.js';
import { printable } from '../format.js';

const FORMATS = { '.sqlite': 'sqlite', '.csv': 'csv', '.json': 'json' } as const;
type Format = (typeof FORMATS)[keyof typeof FORMATS];

interface ExportFlags {
  db: string;
  runs: string;
  out: string;
  overwrite?: boolean;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export chosen runs to a new database (.sqlite), CSV of their metrics (.csv) or JSON (.json)')
    .option('--db <path>', 'SQLite database holding the runs (it must exist)', DEFAULT_DB)
    .requiredOption('--runs <ids>', 'run ids separated by commas, or ranges: 1,2 or 3-5 (`hetmem runs` lists them)')
    .requiredOption('--out <file>', 'file to write; its extension picks the format: .sqlite, .csv or .json')
    .option('--overwrite', 'replace --out if it exists')
    .addHelpText(
      'after',
      `
A .sqlite export is a workbench database holding just those runs (\`hetmem import\` merges
it into another). CSV has one row per run and metric; JSON holds each run, its experiment
and its whole result.

Examples:
  $ hetmem export --db hetmem.sqlite --runs 1,2 --out two-runs.sqlite
  $ hetmem export --db hetmem.sqlite --runs 1-4 --out metrics.csv`,
    )
    .action((flags: ExportFlags) => exportCommand(flags));
}

function exportCommand(flags: ExportFlags): void {
  const ext = extname(flags.out).toLowerCase();
  const format: Format | undefined = (FORMATS as Record<string, Format>)[ext];
  if (!format) {
    throw invalid(
      `--out: ${flags.out} ${ext ? `has the extension ${ext}, which is not an export format` : 'has no extension'}; end it with .sqlite (a database), .csv or .json`,
    );
  }
  const ids = parseRunIds(flags.runs);
  checkExistingDb(flags.db);
  checkOutFile(flags.out, flags.db, !!flags.overwrite);

  withReadStore(flags.db, (store) => {
    requireRunsArg('--runs', () => store.requireRuns(ids));
    if (format === 'sqlite') {
      try {
        exportRunsToSqlite(store, ids, flags.out, { overwrite: !!flags.overwrite });
      } catch (e) {
        const message = (e as Error).message;
        throw /still running|is the store being exported/.test(message) ? invalid(message) : failure(message);
      }
    } else {
      let text: string;
      try {
        text = format === 'csv' ? exportRunsToCsv(store, ids) : exportRunsToJson(store, ids);
      } catch (e) {
        if (isDamage(e)) throw e;
        throw failure(`exporting to ${flags.out} failed: ${(e as Error).message}`);
      }
      writeWhole(flags.out, text);
    }
  });
  const what = ids.length === 1 ? `run ${ids[0]}` : `${ids.length} runs (${ids.join(', ')})`;
  process.stdout.write(`exported ${what} to ${printable(flags.out)}\n`);
}
