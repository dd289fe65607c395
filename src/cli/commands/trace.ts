/** `hetmem trace RUN --out FILE.json`: a run's timeline in the Chrome trace-event format. */
import type { Command } from 'commander';
import { exportRunsToTrace } from '../../main/services/workbench/trace.js';
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
import type { Timeline } from '../../sim/result/types.js';

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
The trace holds a process for the run: its phases (or a script's operations) as slices,
unexpected outcomes as instant events, and every series (link bandwidth each way, device
memory in use, fault rate, ...) as a counter track. Then a process per device and one for
the host with the component timeline: a thread per link direction, copy engine, fault
handler, DRAM channel (and the host memory, a PCIe switch's upstream link), its busy
intervals as slices. The app's export writes the same file.

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
        process.stdout.write(`wrote the timeline of run ${id} to ${printable(flags.out)}\n`);
        const note = timelineNote(store.getTimeline(id));
        if (note) process.stdout.write(`${note}\n`);
      });
    });
}

/** What a reader of the trace should know about its component timeline: missing, or coarsened. */
export function timelineNote(timeline: Timeline | null): string | null {
  if (!timeline) {
    return 'note: the run recorded no component timeline (it was stored before timelines existed, or ran with sampling.timelineIntervals 0); the trace holds its phases and series only';
  }
  const coarse = timeline.tracks.filter((t) => t.closedGaps > 0);
  if (coarse.length === 0) return null;
  const gaps = coarse.reduce((n, t) => n + t.closedGaps, 0);
  const longest = Math.max(...coarse.map((t) => t.closedGapNs));
  return `note: to keep within sampling.timelineIntervals = ${timeline.maxIntervals}, ${coarse.length} of ${timeline.tracks.length} components had idle gaps closed (${gaps.toLocaleString('en-US')} gaps, the longest ${longest.toLocaleString('en-US', { maximumFractionDigits: 3 })} ns); a slice's busy_fraction says how busy it was. Raise the budget for finer detail`;
}
