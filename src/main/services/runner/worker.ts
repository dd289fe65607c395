/**
 * The simulation worker: runs one experiment in its own thread so the caller (CLI, app,
 * web server) stays responsive, streams progress, and can be stopped at any moment by
 * `worker.terminate()`. Asked to, it also sends the result's series as recorded so far.
 * It imports only src/sim and the trace-file reader.
 *
 * Compiled to worker.js by `tsc -p tsconfig.node.json`; see `workerUrl()` in index.ts for
 * how the runner finds it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { simulate } from '../../../sim/simulate.js';
import type { WorkerInput, WorkerMessage } from './protocol.js';
import { openTraceFile, type TraceFile } from './trace-file.js';

const port = parentPort;
if (!port) throw new Error('worker.js is a worker thread; the runner starts it (runExperiment)');
const post = (m: WorkerMessage) => port.postMessage(m);

const input = workerData as WorkerInput;
let trace: TraceFile | undefined;
try {
  trace = input.tracePath === null ? undefined : openTraceFile(input.tracePath);
  let last = -Infinity;
  let lastSeries = -Infinity;
  const result = simulate(input.experiment, {
    traceSource: trace,
    onProgress: (progress, seriesSoFar) => {
      const now = performance.now();
      if (now - last < input.progressIntervalMs) return;
      last = now;
      post({ type: 'progress', progress });
      if (input.seriesIntervalMs !== null && now - lastSeries >= input.seriesIntervalMs) {
        lastSeries = now;
        post({ type: 'series', simTimeNs: progress.simTimeNs, series: seriesSoFar() });
      }
    },
  });
  post({ type: 'done', result });
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  post({ type: 'error', name: err.name, message: err.message, stack: err.stack ?? null });
} finally {
  trace?.close();
}
