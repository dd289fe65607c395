/** `hetmem sweep FILE`: run every point of an experiment's sweep on this machine's cores, and summarize. */
import type { Command } from 'commander';
import {
  defaultWorkers,
  runSweepLocal,
  type PointRecorded,
  type SweepTally,
} from '../../main/services/sweeps/local.js';
import { planSweep, shardPoints, type SweepPlan } from '../../main/services/sweeps/plan.js';
import { storedPoints } from '../../main/services/sweeps/record.js';
import { DEFAULT_SWEEP_METRIC, summarizeSweep } from '../../main/services/sweeps/summary.js';
import { checkWritableDb, DEFAULT_DB, issueLines, openStore, readExperimentFile } from '../args.js';
import { CliError, EXIT, failure, invalid } from '../errors.js';
import { SweepProgressBar, sweepTable } from '../sweep-format.js';

interface SweepFlags {
  db: string;
  workers?: string;
  metric: string;
  shard?: string;
}

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description("run every point of an experiment's sweep on all cores, store each as a run and summarize")
    .argument('<file>', 'experiment JSON file with a "sweep" section')
    .option('--db <path>', 'SQLite database that records the points (created if absent)', DEFAULT_DB)
    .option('--workers <n>', 'worker threads on this machine (default: one per core)')
    .option('--metric <name>', 'metric of the summary table', DEFAULT_SWEEP_METRIC)
    .option('--shard <i/n>', 'run only shard I of N (I from 0 to N-1): for Slurm arrays and indexed Jobs')
    .addHelpText(
      'after',
      `
Every point is an ordinary run, tagged sweep:<id> and <path>=<value>. Points already in
--db (same experiment, seed and model version) are not run again, so a rerun after
Ctrl-C or a crash resumes. A failing point is recorded as failed; the others go on (exit
1 at the end). The summary is a table of the axes against --metric, with the mean and the
spread over repetitions.

Examples:
  $ hetmem sweep link-sweep.json --db sweep.sqlite --workers 2 --metric device.page_faults
  $ hetmem sweep link-sweep.json --shard $SLURM_ARRAY_TASK_ID/4 --db shard-$SLURM_ARRAY_TASK_ID.sqlite`,
    )
    .action(async (file: string, flags: SweepFlags) => sweepCommand(file, flags));
}

function parseWorkers(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 1024) {
    throw invalid(`--workers: ${JSON.stringify(text)} is not a number of workers; use a whole number from 1 to 1024`);
  }
  return n;
}

export function parseShard(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw invalid(
      `--shard: ${JSON.stringify(text)} is not a shard; use I/N with N shards and I from 0 to N-1, e.g. --shard 0/4 (with Slurm: --shard $SLURM_ARRAY_TASK_ID/4)`,
    );
  }
  return { index, count };
}

async function sweepCommand(file: string, flags: SweepFlags): Promise<void> {
  // Every check on the input comes before the database is opened.
  const workers = parseWorkers(flags.workers);
  const shard = parseShard(flags.shard);
  const doc = readExperimentFile(file);
  const planned = planSweep(doc.text, { baseDir: doc.baseDir });
  if (!planned.ok) throw invalid(issueLines(file, planned.issues).join('\n'));
  const plan: SweepPlan = planned;
  checkWritableDb(flags.db);

  const store = openStore(flags.db);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  let tally: SweepTally;
  let summaryLines: string[];
  try {
    const mine = shard ? shardPoints(plan.points, shard.index, shard.count) : plan.points;
    const stored = storedPoints(store, plan);
    // Two points that resolve to the same experiment and seed (1048576 and "1MiB") run once.
    const seen = new Set(stored.keys());
    const todo = mine.filter((p) => !seen.has(p.hash) && seen.add(p.hash));
    const already = mine.filter((p) => stored.has(p.hash)).length;
    const repeated = mine.length - already - todo.length;
    const threads = Math.min(workers ?? defaultWorkers(), todo.length);
    const where = todo.length ? ` on ${threads} worker thread${threads === 1 ? '' : 's'}` : '';
    const share = shard
      ? `shard ${shard.index}/${shard.count}: ${mine.length} of ${plan.points.length} points`
      : `${plan.points.length} points`;
    process.stderr.write(
      `sweep ${plan.id} "${plan.name}": ${share}, ${already} already in ${flags.db}${repeated ? `, ${repeated} repeating another point` : ''}; running ${todo.length}${where}\n`,
    );
    const bar = process.stderr.isTTY ? new SweepProgressBar(process.stderr, todo.length) : null;
    bar?.show();
    const onPoint = ({ point, runId, outcome }: PointRecorded) => {
      bar?.point(outcome.ok);
      if (outcome.ok) stored.set(point.hash, runId);
      else {
        bar?.clear();
        process.stderr.write(`hetmem: point ${point.index} (${point.label}) failed, run ${runId}: ${outcome.error}\n`);
        bar?.show();
      }
    };
    try {
      tally = await runSweepLocal(store, plan, todo, { workers, signal: abort.signal, onPoint });
    } finally {
      bar?.clear();
    }
    const shown = shard ? { ...plan, points: mine } : plan;
    try {
      summaryLines = sweepTable(summarizeSweep(store, shown, stored, flags.metric));
    } catch (e) {
      throw invalid((e as Error).message);
    }
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw failure(`the sweep could not be run or recorded in ${flags.db}: ${(e as Error).message}`);
  } finally {
    process.off('SIGINT', onSigint);
    store.close();
  }

  process.stdout.write(`${summaryLines.join('\n')}\n`);
  const counts = `${tally.done} points run, ${tally.failed} failed`;
  if (tally.stopped) {
    throw new CliError(`stopped: ${counts}; rerun the same command to resume`, EXIT.interrupted);
  }
  if (tally.failed) throw new CliError(`${counts} (recorded as failed in ${flags.db})`, EXIT.failure);
  process.stderr.write(`${counts}; stored in ${flags.db} with tag sweep:${plan.id}\n`);
}
