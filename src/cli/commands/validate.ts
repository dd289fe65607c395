/** `hetmem validate FILE`: check an experiment without running it. */
import type { Command } from 'commander';
import { prepareExperiment } from '../../main/services/runner/index.js';
import { planSweep } from '../../main/services/sweeps/plan.js';
import { issueLines, readExperimentFile } from '../args.js';
import { invalid } from '../errors.js';
import { printable } from '../format.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check an experiment file against the schema and the hardware presets, without running it')
    .argument('<file>', 'experiment JSON file')
    .addHelpText(
      'after',
      `
Prints "FILE: valid" and exits 0, or prints every problem as "FILE: path: message" on
stdout (and a one-line "hetmem: ..." summary on stderr) and exits 2. A trace workload's file must exist (relative to the experiment's folder).
With a "sweep" section, every point is checked as well.

Example:
  $ hetmem validate resources/experiments/gpu-stream-hmm-mirror.json`,
    )
    .action((file: string) => {
      const doc = readExperimentFile(file);
      const base = prepareExperiment(doc.text, { baseDir: doc.baseDir });
      // A sweep is valid when every one of its points is.
      const prepared = base.ok && base.experiment.sweep ? planSweep(doc.text, { baseDir: doc.baseDir }) : base;
      if (!prepared.ok) {
        // The issues are what the command reports, so they go to stdout like "valid" does.
        process.stdout.write(`${issueLines(file, prepared.issues).map(printable).join('\n')}\n`);
        const n = prepared.issues.length;
        throw invalid(`${file} is not a valid experiment (${n === 1 ? '1 problem' : `${n} problems`})`);
      }
      const points = 'points' in prepared ? ` (a sweep of ${prepared.points.length} points)` : '';
      process.stdout.write(`${printable(file)}: valid${points}\n`);
    });
}
