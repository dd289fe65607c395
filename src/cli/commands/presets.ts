/** `hetmem presets`: the shipped hardware presets and example experiments. */
import type { Command } from 'commander';
import { relative } from 'node:path';
import { loadExampleExperiments, loadHardwarePresets, resourcesDir } from '../../main/services/presets.js';
import { table } from '../format.js';

export function registerPresets(program: Command): void {
  program
    .command('presets')
    .description('list the hardware presets and the example experiments')
    .addHelpText(
      'after',
      `
An experiment uses a hardware preset with "hardware": { "preset": "NAME" } and may
override any of its fields beside it.

Example:
  $ hetmem presets`,
    )
    .action(() => {
      const root = resourcesDir();
      const hardware = loadHardwarePresets();
      const examples = loadExampleExperiments();
      const out = [`hardware presets (${relative(process.cwd(), `${root}/presets/hardware`) || '.'}):`];
      out.push(
        ...table(
          ['name', 'description'],
          hardware.map((p) => [p.name, p.description]),
        ).map((l) => `  ${l}`),
      );
      out.push('', `example experiments (${relative(process.cwd(), `${root}/experiments`) || '.'}):`);
      out.push(
        ...table(
          ['file', 'name', 'description'],
          examples.map((e) => [`${e.name}.json`, e.title, e.description]),
        ).map((l) => `  ${l}`),
      );
      out.push('', `run one with: hetmem run ${relative(process.cwd(), `${root}/experiments`) || '.'}/FILE`);
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
