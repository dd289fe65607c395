/**
 * npm run bench: throughput and memory figures of the simulator on one core. It prints
 * figures and never fails on a timing. Each simulated case is compared with a bare loop
 * that only generates the same access stream (the efficiency ratio).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EventQueue } from '../src/sim/engine/event-queue.js';
import { Rng } from '../src/sim/engine/rng.js';
import { parseExperiment, simulate, type Experiment, type RunResult } from '../src/sim/index.js';
import { buildWorkload } from '../src/sim/workload/index.js';
import { drainPlan } from '../src/sim/workload/drain.js';
import { stringTraceSource } from '../src/sim/workload/trace.js';
import type { TraceSource } from '../src/sim/workload/types.js';
import { loadPresetMap } from '../src/main/services/presets.js';

const presets = loadPresetMap();

function experiment(doc: Record<string, unknown>): Experiment {
  return parseExperiment({ name: 'bench', seed: 1, ...doc }, presets);
}

function time<T>(fn: () => T): [T, number] {
  const start = process.hrtime.bigint();
  const value = fn();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

function fmt(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(2);
}

function benchEngine(): void {
  const q = new EventQueue(1024);
  const rng = new Rng(1, 'bench');
  const events = 5_000_000;
  const [, s] = time(() => {
    for (let i = 0; i < 1024; i++) q.push(rng.nextInt(1_000_000), 0, i);
    for (let i = 0; i < events; i++) {
      q.pop();
      q.push(q.lastTime + 1 + (q.lastTarget % 997), 0, q.lastTarget);
    }
  });
  console.log(
    `engine: ${fmt(events / s)} events/s (pop + push on a 1024-event heap, ${events} events, ${s.toFixed(2)} s)`,
  );
}

interface Case {
  name: string;
  /** What one access is called in the report. */
  unit?: string;
  doc: Record<string, unknown>;
  trace?: () => TraceSource;
}

function benchCase(c: Case): void {
  const exp = experiment(c.doc);
  const hw = exp.hardware;
  const env = {
    seed: exp.seed,
    cpuContexts: hw.cpu.cores,
    deviceContexts: hw.devices.reduce((sum, d) => sum + d.computeUnits * d.contextsPerUnit, 0),
    traceSource: c.trace?.(),
  };
  const [bare, bareS] = time(() => drainPlan(buildWorkload(exp.workload, env)));
  const [result, simS] = time(() => simulate(exp, { traceSource: c.trace?.() }));
  const m = (name: string) => (result as RunResult).metrics[name]?.value ?? 0;
  const accesses = m('device.accesses') + m('cpu.accesses');
  const rate = accesses / simS;
  const bareRate = bare.lines / bareS;
  const unit = c.unit ?? 'accesses';
  console.log(
    `${c.name}: ${fmt(rate)} ${unit}/s (${fmt(accesses)} ${unit} in ${simS.toFixed(2)} s; ` +
      `${fmt(m('sim.events'))} events, ${fmt(m('device.page_faults'))} device faults, ${fmt(m('device.tlb_misses'))} device TLB misses); ` +
      `bare generator ${fmt(bareRate)} ${unit}/s; efficiency ${((rate / bareRate) * 100).toFixed(1)} %`,
  );
}

function dramTrace(lines: number): () => TraceSource {
  const rng = new Rng(3, 'trace');
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) {
    const addr = rng.nextInt(1 << 30) & ~63;
    parts.push(`0x${addr.toString(16)} ${i % 3 === 0 ? 'WRITE' : 'READ'} ${i}`);
  }
  const text = parts.join('\n');
  return () => stringTraceSource(text, 'bench-dram.trace');
}

/** Peak RSS of a run whose footprint is 32 GiB of 4 KiB pages, measured in a fresh process. */
function benchFootprint(): void {
  const child = fileURLToPath(new URL('./footprint.js', import.meta.url));
  const r = spawnSync(process.execPath, [child], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`footprint: failed: ${r.stderr.trim()}`);
    return;
  }
  console.log(r.stdout.trim());
}

console.log(`Hetmem Workbench benchmark (node ${process.version}, one core)`);
benchEngine();
const gpu = { hardware: { preset: 'gpu-pcie4-hbm2' } };
benchCase({
  name: 'hmm-mirror stream (TLB hits dominate)',
  doc: {
    ...gpu,
    strategy: { impl: 'hmm-mirror' },
    workload: { impl: 'stream', arrayBytes: '256MiB', iterations: 2, initOnCpu: false, readBackOnCpu: false },
  },
});
benchCase({
  name: 'explicit-copy stream (device DRAM)',
  doc: {
    ...gpu,
    strategy: { impl: 'explicit-copy' },
    workload: { impl: 'stream', arrayBytes: '256MiB', iterations: 2, initOnCpu: false, readBackOnCpu: false },
  },
});
benchCase({
  name: 'hmm-mirror random gather (misses and faults dominate)',
  doc: {
    hardware: { preset: 'gpu-pcie4-hbm2', device: { mmu: { pageSizeBytes: '4KiB' } } },
    strategy: { impl: 'hmm-mirror' },
    workload: { impl: 'gather', tableBytes: '4GiB', accesses: 1_000_000, initOnCpu: false },
  },
});
benchCase({
  name: 'DRAM-only trace replay (1M DRAMSim3 lines)',
  unit: 'requests',
  doc: {
    ...gpu,
    strategy: { impl: 'hmm-mirror' },
    workload: {
      impl: 'trace',
      path: 'bench-dram.trace',
      format: 'dramsim3',
      target: 'device-dram',
      regionBytes: '1GiB',
    },
  },
  trace: dramTrace(1_000_000),
});
benchFootprint();
