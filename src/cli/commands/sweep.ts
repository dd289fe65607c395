/**
 * `hetmem sweep FILE`: run every point of an experiment's sweep on this machine's cores,
 * or with --redis on `hetmem worker` processes through a BullMQ queue, and summarize.
 */
import type { Command } from 'commander';
import type { QueuedInfo } from '../../main/services/sweeps/coordinator.js';
import {
  createPointPool,
  defaultWorkers,
  runSweepLocal,
  type PointRecorded,
  type SweepTally,
} from '../../main/services/sweeps/local.js';
import type { PlannedPoint, SweepPlan } from '../../main/services/sweeps/plan.js';
import { checkRedis, DEFAULT_QUEUE, shownUrl } from '../../main/services/sweeps/queue.js';
import { storedPoints } from '../../main/services/sweeps/record.js';

import { DEFAULT_SWEEP_METRIC } from '../../main/services/sweeps/summary-metric.js';
import {
  checkWritableDb,
  DEFAULT_DB,
  issueLines,
  openStore,
  readExperimentFile,
  type ExperimentFile,
} from '../args.js';
import { parseRedisUrl } from '../redis-url.js';
import { CliError, EXIT, failure, invalid } from '../errors.js';
import { SweepProgressBar, sweepTable } from '../sweep-format.js';

/** A sweep small enough to read side by side gets the compare command that shows it. */
const MAX_COMPARED = 12;

interface SweepFlags {
  db: string;
  workers?: string;
  metric: string;
  shard?: string;
  redis?: string;
  queue: string;
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
    .option('--redis <url>', 'queue the points on Redis for `hetmem worker` processes and collect their results')
    .option('--queue <name>', 'name of the BullMQ queue on --redis', DEFAULT_QUEUE)
    .addHelpText(
      'after',
      `
Every point is an ordinary run, tagged sweep:<id> and <path>=<value>. Points already in
--db (same experiment, seed and model version) are not run again, so a rerun after
Ctrl-C or a crash resumes. A failing point is recorded as failed; the others go on (exit
1 at the end). The summary is a table of the axes against --metric, with the mean and the
spread over repetitions.

With --redis, this command is the coordinator: it queues the points not yet in --db
(once each: a job's id is the model version and the point's hash) and stores the results
as \`hetmem worker --redis URL\` processes on any machines return them. Ctrl-C leaves the
points queued; rerunning the command collects them, including those that finished
meanwhile. Workers of another model version refuse the points (exit 1, nothing stored).

Examples:
  $ hetmem sweep link-sweep.json --db sweep.sqlite --workers 2 --metric device.page_faults
  $ hetmem sweep link-sweep.json --db sweep.sqlite --redis redis://head-node:6379
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

interface Shard {
  index: number;
  count: number;
}

type PointPool = ReturnType<typeof createPointPool>;

export function parseShard(text: string | undefined): Shard | undefined {
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
  // Every check on the input, and on Redis, comes before the database is opened.
  const workers = parseWorkers(flags.workers);
  const shard = parseShard(flags.shard);
  const redis = flags.redis === undefined ? undefined : parseRedisUrl(flags.redis);
  if (redis !== undefined && (workers !== undefined || shard !== undefined)) {
    const flag = workers !== undefined ? '--workers' : '--shard';
    throw invalid(
      `${flag}: not with --redis (the points run on \`hetmem worker\` processes, which take --concurrency); drop one of the two`,
    );
  }
  const doc = readExperimentFile(file);
  // A local sweep's first thread loads the model while this one loads the schema and plans
  // (the schema, like BullMQ, is loaded only now for that reason); the other threads start
  // as the points are handed out. Whatever happens next, the pool is destroyed.
  const pool = redis === undefined ? createPointPool(workers ?? defaultWorkers(), 1) : undefined;
  try {
    await sweepWithPool(file, doc, flags, { workers, shard, redis, pool });
  } finally {
    await pool?.destroy();
  }
}

async function sweepWithPool(
  file: string,
  doc: ExperimentFile,
  flags: SweepFlags,
  { workers, shard, redis, pool }: { workers?: number; shard?: Shard; redis?: string; pool?: PointPool },
): Promise<void> {
  const [{ planSweep, shardPoints }, { summarizeSweep }] = await Promise.all([
    import('../../main/services/sweeps/plan.js'),
    import('../../main/services/sweeps/summary.js'),
  ]);
  const planned = planSweep(doc.text, { baseDir: doc.baseDir });
  if (!planned.ok) throw invalid(issueLines(file, planned.issues).join('\n'));
  const plan: SweepPlan = planned;
  checkWritableDb(flags.db);
  if (redis !== undefined) {
    try {
      await checkRedis(redis);
    } catch (e) {
      throw failure(`${(e as Error).message}; nothing was queued or stored`);
    }
  }
  // BullMQ is loaded only for a sweep on Redis: a local sweep starts sooner without it.
  const coordinator = redis === undefined ? undefined : await import('../../main/services/sweeps/coordinator.js');

  const store = openStore(flags.db);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  let tally: SweepTally & { refused?: number };
  let summaryLines: string[];
  let compareHint = '';
  try {
    const mine = shard ? shardPoints(plan.points, shard.index, shard.count) : plan.points;
    const stored = storedPoints(store, plan);
    // Two points that resolve to the same experiment and seed (1048576 and "1MiB") run once.
    const seen = new Set(stored.keys());
    const todo = mine.filter((p) => !seen.has(p.hash) && seen.add(p.hash));
    const already = mine.filter((p) => stored.has(p.hash)).length;
    const repeated = mine.length - already - todo.length;
    const threads = Math.min(workers ?? defaultWorkers(), todo.length);
    const where = !todo.length
      ? ''
      : redis !== undefined
        ? ` on queue ${flags.queue} at ${shownUrl(redis)}`
        : ` on ${threads} worker thread${threads === 1 ? '' : 's'}`;
    const share = shard
      ? `shard ${shard.index}/${shard.count}: ${mine.length} of ${plan.points.length} points`
      : `${plan.points.length} points`;
    process.stderr.write(
      `sweep ${plan.id} "${plan.name}": ${share}, ${already} already in ${flags.db}${repeated ? `, ${repeated} repeating another point` : ''}; running ${todo.length}${where}\n`,
    );
    const bar = process.stderr.isTTY ? new SweepProgressBar(process.stderr, todo.length) : null;
    const say = (line: string) => {
      bar?.clear();
      process.stderr.write(`${line}\n`);
      bar?.show();
    };
    bar?.show();
    const onPoint = ({ point, runId, outcome }: PointRecorded) => {
      bar?.point(outcome.ok);
      if (outcome.ok) stored.set(point.hash, runId);
      else say(`hetmem: point ${point.index} (${point.label}) failed, run ${runId}: ${outcome.error}`);
    };
    try {
      tally =
        redis === undefined || coordinator === undefined
          ? await runSweepLocal(store, plan, todo, { workers, pool, signal: abort.signal, onPoint })
          : await coordinator.runSweepOnQueue(store, plan, todo, stored, {
              url: redis,
              queueName: flags.queue,
              signal: abort.signal,
              onPoint,
              onQueued: (info) => say(queuedLine(info, redis, flags.queue)),
              onRefused: (point: PlannedPoint, reason: string) => {
                bar?.point(false);
                say(`hetmem: point ${point.index} (${point.label}) not run: ${reason}`);
              },
              onConnectionError: (e) => say(`hetmem: Redis at ${shownUrl(redis)}: ${e.message}; retrying`),
              onRequeued: (n) =>
                say(
                  `hetmem: the queue lost its points (Redis restarted without its data?); queued the ${n} left again`,
                ),
            });
    } finally {
      bar?.clear();
    }
    const shown = shard ? { ...plan, points: mine } : plan;
    try {
      summaryLines = sweepTable(summarizeSweep(store, shown, stored, flags.metric));
      const ids = shown.points.map((p) => stored.get(p.hash)).filter((id) => id !== undefined);
      if (ids.length >= 2 && ids.length <= MAX_COMPARED)
        compareHint = `side by side, with attribution: hetmem compare ${ids.join(' ')} --db ${flags.db}\n`;
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
  const counts = `${tally.done} points run, ${tally.failed} failed${tally.refused ? `, ${tally.refused} refused by workers of another model version` : ''}`;
  if (tally.stopped) {
    const resume =
      redis === undefined
        ? 'rerun the same command to resume'
        : 'the rest stay queued for the workers; rerun the same command to collect them';
    throw new CliError(`stopped: ${counts}; ${resume}`, EXIT.interrupted);
  }
  if (tally.refused) {
    throw new CliError(
      `${counts}; update hetmem on those workers (\`hetmem --version\` prints the model version) and rerun to queue the refused points again`,
      EXIT.failure,
    );
  }
  if (tally.failed) throw new CliError(`${counts} (recorded as failed in ${flags.db})`, EXIT.failure);
  process.stderr.write(`${counts}; stored in ${flags.db} with tag sweep:${plan.id}\n`);
  process.stderr.write(compareHint);
}

function queuedLine(info: QueuedInfo, url: string, queue: string): string {
  const parts = [`queued ${info.added} points`];
  if (info.alreadyQueued) parts.push(`${info.alreadyQueued} were queued already`);
  if (info.collected) parts.push(`collected ${info.collected} that finished while no coordinator ran`);
  const workers =
    info.workers === 0
      ? `no worker is connected yet: start \`hetmem worker --redis ${shownUrl(url)}${queue === DEFAULT_QUEUE ? '' : ` --queue ${queue}`}\` on the machines`
      : `${info.workers} worker connection${info.workers === 1 ? '' : 's'} on the queue`;
  return `${parts.join(', ')}; ${workers}`;
}
