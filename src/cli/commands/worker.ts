/** `hetmem worker --redis URL`: simulate sweep points taken from a Redis queue, for any coordinator. */
import { Option, type Command } from 'commander';
import { MODEL_VERSION } from '../../sim/result/version.js';
import { startPointWorker } from '../../main/services/sweeps/cluster-worker.js';
import { defaultWorkers } from '../../main/services/sweeps/local.js';
import { checkRedis, DEFAULT_QUEUE, shownUrl } from '../../main/services/sweeps/queue.js';
import { parseRedisUrl } from '../redis-url.js';
import { CliError, EXIT, failure, invalid } from '../errors.js';
import { printable } from '../format.js';

/**
 * Tests only: the model version this worker claims, to check that a worker of another
 * version refuses the points. Never set it on a real worker.
 */
export const TEST_MODEL_VERSION_ENV = 'HETMEM_TEST_WORKER_MODEL_VERSION';

interface WorkerFlags {
  redis: string;
  concurrency?: string;
  queue: string;
  lockDuration?: string;
  stalledInterval?: string;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'take sweep points from a Redis queue (`hetmem sweep FILE --redis URL`), simulate them, return the results',
    )
    .requiredOption('--redis <url>', 'the Redis server of the coordinator, e.g. redis://head-node:6379')
    .option('--concurrency <n>', 'points simulated at a time, one thread each (default: one per core)')
    .option('--queue <name>', 'name of the BullMQ queue', DEFAULT_QUEUE)
    // Short lock and stalled-check times let tests see a killed worker's point requeued quickly.
    .addOption(new Option('--lock-duration <ms>').hideHelp())
    .addOption(new Option('--stalled-interval <ms>').hideHelp())
    .addHelpText(
      'after',
      `
Run one per machine, as many machines as you like; the worker writes no database (the
coordinator stores the results). It logs each point on stderr. A point whose worker dies
is taken over by another worker within about a minute (BullMQ's stalled-job check).
A point queued by a coordinator of another model version is refused, and the worker stops
with exit 1. Ctrl-C (or SIGTERM) stops taking points and finishes those in progress; a
second Ctrl-C leaves them to the other workers. A trace workload's file must be at the
same path on every machine.

Example:
  $ hetmem worker --redis redis://head-node:6379 --concurrency "$(nproc)"`,
    )
    .action(async (flags: WorkerFlags) => workerCommand(flags));
}

function parseCount(flag: string, text: string | undefined, max: number, what: string): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw invalid(`${flag}: ${JSON.stringify(text)} is not ${what}; use a whole number from 1 to ${max}`);
  }
  return n;
}

async function workerCommand(flags: WorkerFlags): Promise<void> {
  const url = parseRedisUrl(flags.redis);
  const concurrency = parseCount('--concurrency', flags.concurrency, 1024, 'a number of points') ?? defaultWorkers();
  const day = 86_400_000;
  const lockDurationMs = parseCount('--lock-duration', flags.lockDuration, day, 'a time in ms');
  const stalledIntervalMs = parseCount('--stalled-interval', flags.stalledInterval, day, 'a time in ms');
  try {
    await checkRedis(url);
  } catch (e) {
    throw failure((e as Error).message);
  }
  const modelVersion = process.env[TEST_MODEL_VERSION_ENV] || MODEL_VERSION;
  const log = (line: string) => process.stderr.write(`${printable(`${new Date().toISOString()} ${line}`)}\n`);
  const worker = startPointWorker({
    url,
    queueName: flags.queue,
    concurrency,
    modelVersion,
    lockDurationMs,
    stalledIntervalMs,
    log,
  });
  log(
    `worker ${worker.name}: model version ${modelVersion}, ${concurrency} point${concurrency === 1 ? '' : 's'} at a time, queue ${flags.queue} at ${shownUrl(url)}; Ctrl-C stops`,
  );
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      const n = worker.running();
      log(
        n
          ? `stopping: finishing ${n} point${n === 1 ? '' : 's'} in progress (Ctrl-C again to leave ${n === 1 ? 'it' : 'them'} to the other workers)`
          : 'stopping',
      );
      void worker.stop();
    } else {
      // Their locks expire and another worker's stalled check puts them back on the queue.
      log('stopped; the points in progress go back to the queue for the other workers');
      process.exit(EXIT.interrupted);
    }
  };
  // SIGTERM (scancel, a Kubernetes pod's shutdown) stops like a first Ctrl-C.
  const onSigterm = () => {
    if (interrupts === 0) onSigint();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    const { refused } = await worker.stopped;
    if (refused) throw new CliError(`${refused}; stopped`, EXIT.failure);
    if (interrupts) throw new CliError('stopped', EXIT.interrupted);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}
