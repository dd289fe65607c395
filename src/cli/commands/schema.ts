/** `hetmem schema`: the JSON Schema of experiment documents, generated from the zod schema. */
import type { Command } from 'commander';
import { experimentJsonSchema } from '../../sim/config/json-schema.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of experiment documents (for editors and other tools)')
    .addHelpText(
      'after',
      `
Example:
  $ hetmem schema > experiment.schema.json
  (then add "$schema": "./experiment.schema.json" to an experiment for completion in an editor)`,
    )
    .action(() => {
      process.stdout.write(`${JSON.stringify(experimentJsonSchema(), null, 2)}\n`);
    });
}
