/**
 * The machine's own ceiling for the `sweep-64` case: `node sweep-bare.js THREADS [--quick]`
 * simulates the sweep's points on THREADS bare worker threads (the sweep's point task, no
 * pool, no store, no process start-up) and prints one JSON line: the seconds from the
 * first point handed out to the last result, once every thread has loaded the model.
 * What two of them gain over one is the most any sweep can gain on this machine now.
 */
import { Worker } from 'node:worker_threads';
import { threadCpuS } from './cpu-account.js';
import { pointTaskUrl, taskOf } from '../src/main/services/sweeps/local.js';
import { planSweep } from '../src/main/services/sweeps/plan.js';
import { sweepDoc } from './sweep-doc.js';

export interface BareReport {
  computeS: number;
  /**
   * Of the process's CPU meanwhile, the share of threads other than the simulation threads:
   * V8's garbage collector and compiler threads, mostly (null off Linux).
   */
  helperShare: number | null;
}

const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData).then(({ default: runPoint }) => {
  parentPort.on('message', (task) => parentPort.postMessage(runPoint(task).ok));
  parentPort.postMessage('ready');
});`;

async function main(): Promise<void> {
  const threads = Number(process.argv[2]);
  const plan = planSweep(JSON.stringify(sweepDoc(process.argv.includes('--quick'))));
  if (!plan.ok) throw new Error(plan.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  const workers = Array.from(
    { length: threads },
    () => new Worker(THREAD, { eval: true, workerData: pointTaskUrl().href }),
  );
  await Promise.all(workers.map((w) => new Promise((res) => w.once('message', res))));
  const tasks = plan.points.map(taskOf);
  const cpuBefore = threadCpuS();
  const started = performance.now();
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((res, rej) => {
          const next = () => {
            const task = tasks.shift();
            if (!task) return res();
            w.once('message', (ok: boolean) => (ok ? next() : rej(new Error('a point failed'))));
            w.postMessage(task);
          };
          next();
        }),
    ),
  );
  const computeS = (performance.now() - started) / 1000;
  const report: BareReport = { computeS, helperShare: helperShare(cpuBefore, threadCpuS(), threads) };
  await Promise.all(workers.map((w) => w.terminate()));
  console.log(JSON.stringify(report));
}

/** The share of the CPU used by all but the `busiest` threads that used the most. */
function helperShare(before: Map<string, number>, after: Map<string, number>, busiest: number): number | null {
  const used = [...after].map(([tid, s]) => s - (before.get(tid) ?? 0)).sort((a, b) => b - a);
  const total = used.reduce((a, b) => a + b, 0);
  return total > 0 ? used.slice(busiest).reduce((a, b) => a + b, 0) / total : null;
}

await main();
