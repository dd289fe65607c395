/** `hetmem trace RUN --out FILE.json`: a run's timeline in the Chrome trace-event format. */
import type { Command } from 'commander';
import { exportRunsToTrace } from '../../main/services/workbench/formats.js';
import {
  checkExistingDb,
  checkOutFile,
  DEFAULT_DB,
  parseRunId,
  requireRunsArg,
  withReadStore,
  writeWhole,
} from '../args.js';
import { invalid } from '../errors.js';
import { printable } from '../format.js';

interface TraceFlags {
  db: string;
  out: string;
  overwrite?: boolean;
}

export function registerTrace(program: Command): void {
  program
    .command('trace')
    .description("write a run's timeline as Chrome trace-event JSON (opens in Perfetto's UI and chrome://tracing)")
    .argument('<run>', 'run id of a finished run (`hetmem runs` lists them)')
    .requiredOption('--out <file>', 'JSON file to write')
    .option('--overwrite', 'replace --out if it exists')
    .option('--db <path>', 'SQLite database holding the run (it must exist)', DEFAULT_DB)
    .addHelpText(
      'after',
      `
The trace holds one process per run: its phases (or a script's operations) as slices,
unexpected outcomes as instant events, and every series (link bandwidth each way, device
memory in use, fault rate, ...) as a counter track. The app's export writes the same file.

Example:
  $ hetmem trace 3 --out run-3.trace.json    # then open it at https://ui.perfetto.dev`,
    )
    .action((runText: string, flags: TraceFlags) => {
      const id = parseRunId(runText);
      if (!flags.out.toLowerCase().endsWith('.json')) {
        throw invalid(
          `--out: ${flags.out} does not end with .json; give a JSON file name, e.g. --out run-${id}.trace.json`,
        );
      }
      checkExistingDb(flags.db);
      checkOutFile(flags.out, flags.db, !!flags.overwrite);
      withReadStore(flags.db, (store) => {
        requireRunsArg('RUN', () => store.requireRuns([id]));
        const run = store.listRuns({ ids: [id] })[0]!;
        if (run.status !== 'done') {
          throw invalid(`RUN: run ${id} is ${run.status}; only a finished (done) run has a timeline`);
        }
        writeWhole(flags.out, exportRunsToTrace(store, [id]));
      });
      process.stdout.write(`wrote the timeline of run ${id} to ${printable(flags.out)}\n`);
    });
}
