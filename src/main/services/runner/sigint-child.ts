/**
 * The process of the "Ctrl-C while the result is stored" test: a run through the real
 * runner and worker, with a SIGINT handler like `hetmem run`'s, whose store sends the
 * process a SIGINT from inside finishRun, after every result row is written: the moment
 * a user's Ctrl-C is ignored if the runner does not look again.
 * Usage: node sigint-child.js <db> <experiment.json>; prints the outcome as JSON.
 */
import { readFileSync, writeSync } from 'node:fs';
import { Store } from '../store/store.js';
import { prepareExperiment, runPrepared } from './index.js';

async function main(): Promise<void> {
  const [dbPath, experimentPath] = process.argv.slice(2);
  const prepared = prepareExperiment(readFileSync(experimentPath, 'utf8'));
  if (!prepared.ok) throw new Error(JSON.stringify(prepared.issues));
  const store = Store.open(dbPath, { beforeFinishCommit: () => process.kill(process.pid, 'SIGINT') });
  const abort = new AbortController();
  process.on('SIGINT', () => abort.abort());
  const outcome = await runPrepared(store, prepared, { signal: abort.signal });
  store.close();
  writeSync(1, `${JSON.stringify({ status: outcome.status, runId: 'runId' in outcome ? outcome.runId : null })}\n`);
}

await main();
