/**
 * The process that the crash-safety test kills. It opens the store, begins a run and
 * finishes it with a result big enough to spill uncommitted pages into the WAL; with
 * argv[3] === 'pause' it announces itself from inside finishRun's transaction, just
 * before the commit, and waits there to be SIGKILLed.
 * Usage: node crash-child.mjs <db> pause|finish
 */
import { writeSync } from 'node:fs';
import type { RunResult } from '../../../sim/result/types.js';
import { Store } from './store.js';

const PAUSE_MARKER = 'PAUSED_IN_FINISH';

function bigResult(): RunResult {
  const metrics: RunResult['metrics'] = {};
  for (let i = 0; i < 2000; i++) metrics[`m.${i}`] = { value: i * 1.5, unit: 'ns' };
  return {
    modelVersion: 'test',
    experimentName: 'crash',
    strategy: 'hmm-mirror',
    workload: 'stream',
    seed: 1,
    metrics,
    // 8 MiB of samples: more than the 1 MiB page cache set in main(), so uncommitted
    // frames reach the WAL file before the kill.
    series: [
      { name: 'link.h2d_GBps', unit: 'GB/s', intervalNs: 1000, values: Array.from({ length: 1 << 20 }, (_, i) => i) },
    ],
    histograms: [{ name: 'fault.ns', unit: 'ns', bounds: [1], counts: [1, 0], count: 1, sum: 1, min: 1, max: 1 }],
    attribution: [],
    ops: [],
    snapshots: [],
  };
}

function main(): void {
  const [dbPath, mode] = process.argv.slice(2);
  const store = Store.open(dbPath, {
    beforeFinishCommit:
      mode === 'pause'
        ? () => {
            writeSync(1, `${PAUSE_MARKER}\n`); // synchronous: the parent sees it before we sleep
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20_000);
            throw new Error('crash-child: not killed within 20 s; rolling back');
          }
        : undefined,
  });
  // better-sqlite3 defaults to a 16 MB cache; a small one makes SQLite spill the
  // uncommitted pages into the WAL, the harder case for recovery.
  store.db.pragma('cache_size = -1024');
  const id = store.beginRun(JSON.stringify({ name: 'crash', seed: 1 }), {
    name: 'crash run',
    seed: 1,
    modelVersion: 'test',
    strategy: 'hmm-mirror',
    workload: 'stream',
  });
  writeSync(1, `RUN ${id}\n`);
  store.finishRun(id, bigResult(), 1);
  store.close();
  writeSync(1, 'DONE\n');
}

main();
