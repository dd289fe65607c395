/** `hetmem tag RUN TAG...`: add tags to a run, or remove them with --remove. */
import type { Command } from 'commander';
import { REQUESTS } from '../../shared/api.js';
import { checkExistingDb, DEFAULT_DB, openStore, parseRunId, requireRunsArg } from '../args.js';
import { invalid } from '../errors.js';
import { printable } from '../format.js';

export function registerTag(program: Command): void {
  program
    .command('tag')
    .description('add tags to a run (or remove them with --remove); prints the tags it has afterwards')
    .argument('<run>', 'run id (`hetmem runs` lists them)')
    .argument('<tags...>', 'tags: non-empty, at most 64 characters, no comma or line break')
    .option('--remove', 'remove these tags instead of adding them')
    .option('--db <path>', 'SQLite database holding the run (it must exist)', DEFAULT_DB)
    .addHelpText(
      'after',
      `
Tags filter \`hetmem runs --tag T\` and the app's runs list. Adding a tag the run has
already changes nothing; removing one it lacks is an error that lists the run's tags.

Examples:
  $ hetmem tag 3 baseline pcie4
  $ hetmem tag 3 --remove pcie4`,
    )
    .action((runText: string, tags: string[], flags: { db: string; remove?: boolean }) => {
      const id = parseRunId(runText);
      // The app's own request schema words what a tag may be.
      const change = flags.remove ? { remove: tags } : { add: tags };
      const parsed = REQUESTS.tagRun.args.safeParse([id, change]);
      if (!parsed.success) {
        const problems = parsed.error.issues.map(
          (i) => `${JSON.stringify(tags[Number(i.path.at(-1))] ?? '')}: ${i.message}`,
        );
        throw invalid(`TAGS: ${problems.join('; ')}`);
      }
      checkExistingDb(flags.db);
      const store = openStore(flags.db);
      try {
        requireRunsArg('RUN', () => store.requireRuns([id]));
        const run = store.listRuns({ ids: [id] })[0];
        if (flags.remove) {
          const lacking = tags.filter((t) => !run!.tags.includes(t));
          if (lacking.length) {
            const list = run!.tags.length ? `its tags are ${run!.tags.join(', ')}` : 'it has no tags';
            throw invalid(
              `run ${id} has no tag ${lacking.map((t) => JSON.stringify(t)).join(', ')} (${list}); nothing was changed`,
            );
          }
          store.removeTags(id, tags);
        } else store.addTags(id, parsed.data[1].add);
        const after = store.listRuns({ ids: [id] })[0]!.tags;
        process.stdout.write(`${printable(`run ${id}: ${after.length ? after.join(', ') : 'no tags'}`)}\n`);
      } finally {
        store.close();
      }
    });
}
