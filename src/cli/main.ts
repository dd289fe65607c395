/**
 * The headless entry: `hetmem run / validate / schema / presets / runs / show / compare / tag /
 * trace / export / import / sweep / worker`.
 * bin/hetmem.js calls main() on the compiled file (dist/src/cli/main.js).
 *
 * Exit codes: 0 success; 2 an invalid experiment or argument (nothing was written, the
 * database not even created); 1 a failure while running; 130 a run stopped by Ctrl-C.
 * Errors go to stderr as `hetmem: ...`; stdout carries only what a command produces.
 */
import { Command, CommanderError } from 'commander';
import { MODEL_VERSION } from '../sim/result/version.js';
import { CliError, EXIT } from './errors.js';
import { printable } from './format.js';

/**
 * Each command's module, loaded only when needed: `hetmem sweep` then never loads BullMQ,
 * the app's services or the other commands, which would take most of a second. In the
 * order `hetmem --help` lists them.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  run: async () => (await import('./commands/run.js')).registerRun,
  validate: async () => (await import('./commands/validate.js')).registerValidate,
  schema: async () => (await import('./commands/schema.js')).registerSchema,
  presets: async () => (await import('./commands/presets.js')).registerPresets,
  runs: async () => (await import('./commands/runs.js')).registerRuns,
  show: async () => (await import('./commands/show.js')).registerShow,
  compare: async () => (await import('./commands/compare.js')).registerCompare,
  tag: async () => (await import('./commands/tag.js')).registerTag,
  trace: async () => (await import('./commands/trace.js')).registerTrace,
  export: async () => (await import('./commands/export.js')).registerExport,
  import: async () => (await import('./commands/import.js')).registerImport,
  sweep: async () => (await import('./commands/sweep.js')).registerSweep,
  worker: async () => (await import('./commands/worker.js')).registerWorker,
};

/**
 * The program with the command `args` names, none for --version, or every command (for
 * help, a misspelt command's suggestion, or no command).
 */
export async function buildProgram(args: readonly string[] = []): Promise<Command> {
  const program = new Command('hetmem');
  program
    .description(
      'Hetmem Workbench: simulate how CPU and accelerator share memory (explicit copies, HMM mirroring, ...), store and compare runs.',
    )
    .version(MODEL_VERSION, '-V, --version', 'print the model version')
    .helpCommand('help [command]', 'show help for a command')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // Commander's own errors (unknown option, missing argument, ...) come as "error: ...".
      outputError: (str, write) =>
        write(
          str
            .replace(/^error: /, 'hetmem: ')
            .split('\n')
            .map(printable)
            .join('\n'),
        ),
    })
    .addHelpText(
      'after',
      `
Exit status: 0 success; 2 invalid experiment or argument (nothing is written); 1 failure
while running; 130 run interrupted by Ctrl-C (recorded as cancelled).

Examples:
  $ hetmem presets
  $ hetmem validate resources/experiments/gpu-stream-hmm-mirror.json
  $ hetmem run resources/experiments/gpu-stream-hmm-mirror.json --db hetmem.sqlite
  $ hetmem run experiment.json --set hardware.link.lanes=8
  $ hetmem runs --db hetmem.sqlite --strategy hmm-mirror --json
  $ hetmem show 3
  $ hetmem compare 3 4
  $ hetmem tag 3 baseline
  $ hetmem trace 3 --out run-3.trace.json
  $ hetmem export --db hetmem.sqlite --runs 1,2 --out runs.csv
  $ hetmem import --db mine.sqlite theirs.sqlite
  $ hetmem sweep link-sweep.json --db sweep.sqlite --metric device.page_faults
  $ hetmem sweep link-sweep.json --db sweep.sqlite --redis redis://head-node:6379
  $ hetmem worker --redis redis://head-node:6379
  $ hetmem schema > experiment.schema.json

Run \`hetmem help COMMAND\` for a command's options and an example.`,
    );
  // Subcommands copy exitOverride and configureOutput from the program when created.
  const first = args[0] ?? '';
  const named = Object.hasOwn(COMMANDS, first)
    ? [first]
    : first === '-V' || first === '--version'
      ? []
      : Object.keys(COMMANDS);
  for (const register of await Promise.all(named.map((name) => COMMANDS[name]()))) register(program);
  return program;
}

/**
 * Runs the CLI on `args` (without node and the script path); resolves to the exit code.
 * With --json, a failure also prints `{"error": {...}}` on stdout, so scripts can rely
 * on stdout holding JSON whatever happened.
 */
export async function main(args: readonly string[]): Promise<number> {
  // A reader that stops early (`hetmem schema | head`) closes the pipe: stop quietly, as
  // Unix tools do, instead of dying on an unhandled EPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.ok);
    throw e;
  });
  const program = await buildProgram(args);
  const json = args.includes('--json');
  try {
    if (args.length === 0) {
      program.outputHelp({ error: true });
      return EXIT.invalid;
    }
    await program.parseAsync([...args], { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    const { exitCode, message, lines } = describeFailure(e);
    // Commander printed its own errors already (and help or version, which exit 0).
    if (!(e instanceof CommanderError)) process.stderr.write(lines.map((l) => `${printable(l)}\n`).join(''));
    const written = e instanceof CliError && e.options.stdoutWritten;
    if (json && exitCode !== EXIT.ok && !written) {
      process.stdout.write(`${JSON.stringify({ error: { message, exitCode } })}\n`);
    }
    return exitCode;
  }
}

/** The exit code, the message (for --json) and the lines for stderr of a failure. */
function describeFailure(e: unknown): { exitCode: number; message: string; lines: string[] } {
  if (e instanceof CommanderError) {
    // Help and version exit 0; every other commander error is a bad argument.
    const exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    return { exitCode, message: e.message.replace(/^error: /, ''), lines: [] };
  }
  if (e instanceof CliError) {
    const lines = e.message === '' ? [] : e.message.split('\n').map((l) => `hetmem: ${l}`);
    return { exitCode: e.exitCode, message: e.message, lines: [...lines, ...e.lines.flatMap((l) => l.split('\n'))] };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const lines = [`hetmem: ${err.message}`, ...(err.stack ?? '').split('\n')];
  return { exitCode: EXIT.failure, message: err.message, lines };
}
