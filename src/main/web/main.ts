/**
 * `npm run serve`: the workbench in a browser. Opens the database, starts the services
 * and the web transport on 127.0.0.1, and prints the URL with this launch's token.
 *
 *   node out/main/serve.js [--db PATH] [--port N] [--concurrency N]
 *
 * Ctrl-C cancels the runs in progress (recorded as cancelled) and closes the database.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MODEL_VERSION } from '../../sim/result/version.js';
import { Store } from '../services/store/store.js';
import { createWorkbench } from '../services/workbench/index.js';
import { startServer } from './server.js';

const USAGE =
  'usage: npm run serve -- [--db PATH] [--port N] [--concurrency N]   (default: --db hetmem.sqlite --port 5178 (0 = any free port) --concurrency 1)';

function fail(message: string): never {
  process.stderr.write(`hetmem serve: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function options(): { db: string; port: number; concurrency: number } {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        db: { type: 'string', default: 'hetmem.sqlite' },
        port: { type: 'string', default: '5178' },
        concurrency: { type: 'string', default: '1' },
      },
    });
  } catch (e) {
    fail((e as Error).message);
  }
  const port = Number(parsed.values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`--port: ${JSON.stringify(parsed.values.port)} is not a port; use a whole number from 0 to 65535`);
  }
  const concurrency = Number(parsed.values.concurrency);
  if (!/^\d+$/.test(parsed.values.concurrency) || concurrency < 1 || concurrency > 64) {
    fail(
      `--concurrency: ${JSON.stringify(parsed.values.concurrency)} is not a number of runs; use a whole number from 1 to 64 (runs beyond it wait in a queue)`,
    );
  }
  const db = resolve(parsed.values.db);
  if (!existsSync(dirname(db))) fail(`--db: the folder ${dirname(db)} does not exist`);
  return { db, port, concurrency };
}

/** The built renderer: out/renderer beside this bundle's out/main. */
function rendererDir(): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'renderer');
  if (!existsSync(join(dir, 'index.html'))) {
    fail(`the renderer is not built (no ${join(dir, 'index.html')}); run \`npm run build\``);
  }
  return dir;
}

async function main(): Promise<void> {
  const { db, port, concurrency } = options();
  const renderer = rendererDir();
  let store: Store;
  try {
    store = Store.open(db);
  } catch (e) {
    process.stderr.write(`hetmem serve: cannot open the database ${db}: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const workbench = createWorkbench(store, { databasePath: db, modelVersion: MODEL_VERSION }, { concurrency });
  let server;
  try {
    server = await startServer({
      api: workbench.api,
      events: workbench.events,
      rendererDir: renderer,
      port,
      onError: (e) => process.stderr.write(`[serve] ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`),
    });
  } catch (e) {
    store.close();
    const code = (e as NodeJS.ErrnoException).code;
    const hint = code === 'EADDRINUSE' ? `; port ${port} is taken, pass --port 0 for any free one` : '';
    process.stderr.write(`hetmem serve: cannot listen on 127.0.0.1:${port}: ${(e as Error).message}${hint}\n`);
    process.exit(1);
  }
  process.stdout.write(`Hetmem Workbench on ${server.url}\ndatabase: ${db}\n(Ctrl-C to stop)\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void Promise.all([server.close(), workbench.stop()]).finally(() => {
      store.close();
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
