/**
 * electron-vite builds three bundles into out/:
 *   out/main/index.js        the main process (ESM; runtime `dependencies` stay external)
 *   out/main/serve.js        `npm run serve`: the services and the renderer over HTTP
 *   out/main/worker.js       the simulation worker thread both of them start
 *   out/main/point-task.js   a sweep point in a piscina thread (sweeps the app starts)
 *   out/preload/index.cjs    the preload: one CommonJS file that requires only 'electron',
 *                            because a sandboxed preload can neither import ESM nor
 *                            require anything else
 *   out/renderer/            the UI, every asset bundled (the app works offline)
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

// import.meta.url, not import.meta.dirname: electron-vite rewrites only the former when it
// bundles this file to load it.
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  main: {
    build: {
      rolldownOptions: {
        input: {
          index: resolve(root, 'src/main/electron/index.ts'),
          // `npm run serve`: the same services over HTTP, for a browser.
          serve: resolve(root, 'src/main/web/main.ts'),
          // The simulation worker thread; the runner looks for it beside itself.
          worker: resolve(root, 'src/main/services/runner/worker.ts'),
          // A sweep point in a pool thread; the sweeps look for it beside the worker.
          'point-task': resolve(root, 'src/main/services/sweeps/point-task.ts'),
        },
        // Shared code in chunks beside the entries, so the runner's `new URL('./worker.js',
        // import.meta.url)` resolves to out/main/worker.js from whichever chunk holds it.
        output: { chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      // Bundle everything the preload imports; the sandbox offers no module loader.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve(root, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    base: './',
    worker: { format: 'es' },
    plugins: [react()],
    build: {
      rolldownOptions: {
        input: { index: resolve(root, 'src/renderer/index.html') },
      },
    },
  },
});
