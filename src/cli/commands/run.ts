/** `hetmem run FILE`: simulate an experiment, store the run, print a summary (or JSON). */
import type { Command } from 'commander';
import { prepareExperiment, runPrepared, type RunOutcome } from '../../main/services/runner/index.js';
import type { Store } from '../../main/services/store/store.js';
import { checkWritableDb, DEFAULT_DB, issueLines, openStore, parseSeed, readExperimentFile } from '../args.js';
import { CliError, EXIT, failure, invalid } from '../errors.js';
import { printable, ProgressBar, runSummary } from '../format.js';

interface RunFlags {
  db: string;
  json?: boolean;
  seed?: string;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('simulate an experiment, store the run in the database and print a summary')
    .argument('<file>', 'experiment JSON file (see `hetmem presets` for examples, `hetmem schema` for the format)')
    .option('--db <path>', 'SQLite database that records the run (created if absent)', DEFAULT_DB)
    .option('--json', 'print the whole result and the run id as JSON on stdout, and nothing else')
    .option('--seed <n>', "override the experiment's seed (a whole number from 0 to 4294967295)")
    .addHelpText(
      'after',
      `
The summary lists every metric (name, value, unit) grouped by component, and where each
agent's simulated time went. A progress bar is drawn on stderr when it is a terminal.
Ctrl-C stops the run and records it as cancelled (exit 130).

Examples:
  $ hetmem run resources/experiments/gpu-stream-hmm-mirror.json
  $ hetmem run my-experiment.json --db results.sqlite --seed 7 --json > result.json`,
    )
    .action(async (file: string, flags: RunFlags) => runCommand(file, flags));
}

async function runCommand(file: string, flags: RunFlags): Promise<void> {
  // Everything that can be wrong with the input is checked before the database is opened.
  const seed = parseSeed(flags.seed);
  const doc = readExperimentFile(file);
  const prepared = prepareExperiment(doc.text, { seed, baseDir: doc.baseDir });
  if (!prepared.ok) {
    throw invalid(issueLines(file, prepared.issues).join('\n'));
  }
  checkWritableDb(flags.db);

  const store: Store = openStore(flags.db);
  const bar = process.stderr.isTTY ? new ProgressBar(process.stderr) : null;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  let outcome: RunOutcome;
  try {
    outcome = await runPrepared(store, prepared, {
      signal: abort.signal,
      onProgress: bar ? (p) => bar.update(p) : undefined,
    });
  } catch (e) {
    throw failure(`the run could not be recorded in ${flags.db}: ${(e as Error).message}`);
  } finally {
    process.off('SIGINT', onSigint);
    bar?.clear();
    store.close();
  }

  if (outcome.status === 'done') {
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ runId: outcome.runId, wallMs: outcome.wallMs, result: outcome.result }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(
        `${runSummary(outcome.runId, outcome.result, outcome.wallMs, flags.db).map(printable).join('\n')}\n`,
      );
    }
    return;
  }
  if (outcome.status === 'invalid') {
    // Cannot happen: the experiment was prepared above.
    throw invalid(issueLines(file, outcome.issues).join('\n'));
  }
  if (outcome.status === 'cancelled') {
    throw new CliError(`run ${outcome.runId} cancelled; recorded as cancelled in ${flags.db}`, EXIT.interrupted);
  }
  throw new CliError(
    `run ${outcome.runId} failed: ${outcome.error}\n(recorded as failed in ${flags.db})`,
    EXIT.failure,
    outcome.stack ? [outcome.stack] : [],
  );
}
