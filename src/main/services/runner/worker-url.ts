/**
 * Where the compiled simulation worker is. A module of its own so the sweep's pool (and
 * `hetmem worker`) can find it without loading the runner, which loads the schema.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let cachedWorkerUrl: URL | undefined;

/**
 * The compiled worker. After `tsc` this module is dist/src/main/services/runner/worker-url.js
 * and worker.js sits beside it. Under vitest this module runs from its .ts source, and a
 * Worker on Node 20 cannot run TypeScript, so the runner falls back to the compiled worker
 * at dist/src/main/services/runner/worker.js: tests of the runner need `npm run
 * build:node` first (`npm test` does it), and they exercise the worker as last built.
 */
export function workerUrl(): URL {
  if (cachedWorkerUrl) return cachedWorkerUrl;
  const beside = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return (cachedWorkerUrl = beside);
  const here = dirname(fileURLToPath(import.meta.url));
  const looked = [fileURLToPath(beside)];
  for (let root = dirname(here); ;) {
    if (existsSync(join(root, 'package.json'))) {
      const compiled = join(root, 'dist', relative(root, here), 'worker.js');
      looked.push(compiled);
      if (existsSync(compiled)) return (cachedWorkerUrl = pathToFileURL(compiled));
      break;
    }
    const up = dirname(root);
    if (up === root) break;
    root = up;
  }
  throw new Error(
    `the simulation worker is not built (looked for ${looked.join(' and ')}); run \`npm run build:node\``,
  );
}
