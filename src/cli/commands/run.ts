/** `hetmem run FILE`: simulate an experiment, store the run, print a summary (or JSON). */
import type { Command } from 'commander';
import { runPrepared, type RunOutcome } from '../../main/services/runner/index.js';
import {
  parseOverride,
  prepareWithOverrides,
  type Override,
  type OverrideIssue,
} from '../../main/services/runner/overrides.js';
import { storeAccessError } from '../../main/services/store/schema.js';
import type { Store } from '../../main/services/store/store.js';
import { checkWritableDb, DEFAULT_DB, issueLines, openStore, parseSeed, readExperimentFile } from '../args.js';
import { CliError, EXIT, failure, invalid } from '../errors.js';
import { printable, runSummary, scriptVerdict, withoutTimeline } from '../format.js';
import { RunProgressBar } from '../run-progress.js';

interface RunFlags {
  db: string;
  json?: boolean;
  seed?: string;
  set: string[];
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('simulate an experiment, store the run in the database and print a summary')
    .argument('<file>', 'experiment JSON file (see `hetmem presets` for examples, `hetmem schema` for the format)')
    .option('--db <path>', 'SQLite database that records the run (created if absent)', DEFAULT_DB)
    .option(
      '--json',
      'print the whole result and the run id as JSON on stdout, and nothing else (but the component timeline: `hetmem trace` writes it)',
    )
    .option('--seed <n>', "override the experiment's seed (a whole number from 0 to 4294967295)")
    .option(
      '--set <path=value>',
      'override a field, e.g. hardware.link.lanes=8 (repeatable; the value is JSON when it parses as JSON, else text)',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .addHelpText(
      'after',
      `
The summary lists every metric (name, value, unit) grouped by component, and where each
agent's simulated time went. A progress bar (elapsed time, events per second, time left)
is drawn on stderr when it is a terminal. Ctrl-C stops the run and records it as
cancelled (exit 130). A scripted workload whose operations carry expectations ends with
a PASS or FAIL line; FAIL (an unexpected outcome) exits 1, the run stored as done.

--set writes a value at a JSON path of the experiment before it is validated, as if the
file said so (objects are created on the way, so it works beside a hardware preset). An
unknown path or a value the field refuses is an error naming the --set (exit 2).

Examples:
  $ hetmem run resources/experiments/gpu-stream-hmm-mirror.json
  $ hetmem run my-experiment.json --set hardware.link.lanes=8 --set workload.arrayBytes=64MiB
  $ hetmem run my-experiment.json --db results.sqlite --seed 7 --json > result.json`,
    )
    .action(async (file: string, flags: RunFlags) => runCommand(file, flags));
}

async function runCommand(file: string, flags: RunFlags): Promise<void> {
  // Everything that can be wrong with the input is checked before the database is opened.
  const seed = parseSeed(flags.seed);
  const overrides = flags.set.map(parseSetFlag);
  const doc = readExperimentFile(file);
  const prepared = prepareWithOverrides(doc.text, overrides, { seed, baseDir: doc.baseDir });
  if (!prepared.ok) {
    throw invalid(overrideIssueLines(file, prepared.issues).join('\n'));
  }
  checkWritableDb(flags.db);

  const store: Store = openStore(flags.db);
  const bar = process.stderr.isTTY ? new RunProgressBar(process.stderr) : null;
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
    throw failure(`the run could not be recorded: ${storeAccessError(flags.db, e).message}`);
  } finally {
    process.off('SIGINT', onSigint);
    bar?.stop();
    store.close();
  }

  if (outcome.status === 'done') {
    const verdict = scriptVerdict(outcome.result);
    if (flags.json) {
      const pass = verdict === null ? {} : { pass: verdict.pass };
      process.stdout.write(
        `${JSON.stringify({ runId: outcome.runId, wallMs: outcome.wallMs, ...pass, result: withoutTimeline(outcome.result) }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(
        `${runSummary(outcome.runId, outcome.result, outcome.wallMs, flags.db).map(printable).join('\n')}\n`,
      );
    }
    if (verdict && !verdict.pass) {
      // The summary (or the JSON) already says what differed; stdout holds nothing more.
      throw new CliError(
        `run ${outcome.runId}: the script had an unexpected outcome (stored as done in ${flags.db})`,
        EXIT.failure,
        [],
        { stdoutWritten: true },
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

function parseSetFlag(text: string): Override {
  const parsed = parseOverride(text);
  if (!parsed.ok) throw invalid(`--set ${text}: ${parsed.message}`);
  return parsed.override;
}

/** `FILE: path: message`, or `--set PATH=VALUE: path: message` for a problem an override caused. */
function overrideIssueLines(file: string, issues: readonly OverrideIssue[]): string[] {
  return issues.map((i) =>
    i.override ? `--set ${i.override.text}: ${i.path ? `${i.path}: ` : ''}${i.message}` : issueLines(file, [i])[0]!,
  );
}
