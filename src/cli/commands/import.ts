/** `hetmem import FILE`: merge another workbench database into this one. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { importDatabase } from '../../main/services/store/import.js';
import { checkImportSource } from '../../main/services/store/check-source.js';
import { openForReading } from '../../main/services/store/schema.js';
import { checkWritableDb, DEFAULT_DB, openStore } from '../args.js';
import { failure, invalid } from '../errors.js';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description("merge another workbench database's runs into --db, skipping runs it already holds")
    .argument('<file>', 'a Hetmem Workbench database (.sqlite), e.g. written by `hetmem export`')
    .option('--db <path>', 'SQLite database to import into (created if absent)', DEFAULT_DB)
    .addHelpText(
      'after',
      `
Runs are matched by their uuid, so importing the same file twice adds nothing the second
time. Imported runs get new ids in --db.

Example:
  $ hetmem import --db hetmem.sqlite colleague-runs.sqlite`,
    )
    .action((file: string, flags: { db: string }) => {
      if (!existsSync(file)) {
        throw invalid(`${file}: no such file; give the path of a Hetmem Workbench database (.sqlite) to import`);
      }
      // Check FILE whole (a workbench database, intact, every row sound) before --db is
      // opened and maybe created: a bad source creates nothing.
      try {
        const source = openForReading(file);
        try {
          checkImportSource(source, file);
        } finally {
          source.close();
        }
      } catch (e) {
        throw invalid((e as Error).message);
      }
      checkWritableDb(flags.db);
      const store = openStore(flags.db);
      try {
        let report;
        try {
          report = importDatabase(store, file);
        } catch (e) {
          const message = (e as Error).message;
          throw /is the store itself/.test(message) ? invalid(message) : failure(message);
        }
        const runs = (n: number) => (n === 1 ? '1 run' : `${n} runs`);
        process.stdout.write(
          `imported ${runs(report.imported)} from ${file} into ${flags.db}; skipped ${runs(report.skipped)} (already there, or still running)\n`,
        );
      } finally {
        store.close();
      }
    });
}
