/**
 * The benchmark's cases. Each runs in its own child process (bench/child.ts); `quick`
 * shrinks every case about 10x for a smoke run.
 */
import { Rng } from '../src/sim/engine/rng.js';
import { stringTraceSource } from '../src/sim/workload/trace.js';
import type { TraceSource } from '../src/sim/workload/types.js';

/** A figure a case is compared against (issue 5's targets), printed as a ratio, never as pass/fail. */
export interface Target {
  figure: 'wall' | 'rss';
  /** Seconds for `wall`, bytes for `rss`. */
  value: number;
  label: string;
}

export interface SimCase {
  kind: 'sim';
  name: string;
  title: string;
  doc: Record<string, unknown>;
  /** The trace the trace workload replays, built before the clock starts. */
  trace?: () => TraceSource;
  /** Compared in full runs only: a --quick run is too small to mean anything against it. */
  target?: Target;
}

export interface EngineCase {
  kind: 'engine';
  name: string;
  title: string;
  events: number;
}

export type BenchCase = SimCase | EngineCase;

const GPU = { preset: 'gpu-pcie4-hbm2' };
const GPU_4K = { ...GPU, device: { mmu: { pageSizeBytes: '4KiB' } } };
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

function bytes(n: number): string {
  return n >= GiB ? `${n / GiB}GiB` : `${n / MiB}MiB`;
}

function stream(strategy: string, arrayBytes: number): Record<string, unknown> {
  return {
    hardware: GPU,
    strategy: { impl: strategy },
    workload: { impl: 'stream', arrayBytes: bytes(arrayBytes), iterations: 2, initOnCpu: false, readBackOnCpu: false },
  };
}

function gather(tableBytes: number, accesses: number, hardware: Record<string, unknown> = GPU_4K) {
  return {
    hardware,
    strategy: { impl: 'hmm-mirror' },
    workload: { impl: 'gather', tableBytes: bytes(tableBytes), accesses, elementBytes: 8, initOnCpu: false },
  };
}

/** DRAMSim3 lines at random 64-byte addresses in 1 GiB, a third of them writes. */
function dramTrace(lines: number): () => TraceSource {
  let text: string | undefined;
  return () => {
    if (text === undefined) {
      const rng = new Rng(3, 'trace');
      const parts: string[] = [];
      for (let i = 0; i < lines; i++) {
        const addr = rng.nextInt(1 << 30) & ~63;
        parts.push(`0x${addr.toString(16)} ${i % 3 === 0 ? 'WRITE' : 'READ'} ${i}`);
      }
      text = parts.join('\n');
    }
    return stringTraceSource(text, 'bench-dram.trace');
  };
}

function count(n: number): string {
  return n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`;
}

export function benchCases(quick: boolean): BenchCase[] {
  // Sizes shrink by 8 (a power of two keeps them valid) and counts by 10 in --quick.
  const size = (n: number) => (quick ? n / 8 : n);
  const many = (n: number) => (quick ? n / 10 : n);
  const traceLines = many(1_000_000);
  const targetTable = size(4 * GiB);
  const targetAccesses = many(100_000_000);
  const sparseTable = size(1024 * GiB);
  const sparseAccesses = many(100_000);
  return [
    { kind: 'engine', name: 'engine', title: 'engine heap (pop + push, 1024 events)', events: many(5_000_000) },
    {
      kind: 'sim',
      name: 'stream-hmm',
      title: 'hmm-mirror stream (TLB hits dominate)',
      doc: stream('hmm-mirror', size(256 * MiB)),
    },
    {
      kind: 'sim',
      name: 'stream-copy',
      title: 'explicit-copy stream (device DRAM)',
      doc: stream('explicit-copy', size(256 * MiB)),
    },
    {
      kind: 'sim',
      name: 'gather',
      title: `hmm-mirror random gather, ${count(many(1_000_000))} over ${bytes(size(4 * GiB))} (misses and faults dominate)`,
      doc: gather(size(4 * GiB), many(1_000_000)),
    },
    {
      kind: 'sim',
      name: 'dram-trace',
      title: `DRAM-only trace replay (${count(traceLines)} DRAMSim3 lines)`,
      doc: {
        hardware: GPU,
        strategy: { impl: 'hmm-mirror' },
        workload: {
          impl: 'trace',
          path: 'bench-dram.trace',
          format: 'dramsim3',
          target: 'device-dram',
          regionBytes: '1GiB',
        },
      },
      trace: dramTrace(traceLines),
    },
    {
      kind: 'sim',
      name: 'footprint-32g',
      title: `footprint ${bytes(size(32 * GiB))} in 4 KiB pages (hmm-mirror gather of ${count(many(2_000_000))})`,
      doc: gather(size(32 * GiB), many(2_000_000)),
      target: { figure: 'rss', value: 600e6, label: '600 MB' },
    },
    {
      kind: 'sim',
      name: 'gather-1e8',
      title: `issue 5 target: ${count(targetAccesses)} random 8 B reads over ${bytes(targetTable)} (4 KiB pages), hmm-mirror`,
      doc: gather(targetTable, targetAccesses),
      target: { figure: 'wall', value: 25, label: '25 s' },
    },
    {
      kind: 'sim',
      name: 'gmem-oversub',
      title: `issue 7 target: gmem, ${count(targetAccesses)} random 8 B reads over ${bytes(targetTable)} of managed memory on a device with ${bytes(size(3 * GiB))} (4 KiB pages)`,
      doc: {
        hardware: { ...GPU_4K, device: { ...GPU_4K.device, dram: { capacityBytes: bytes(size(3 * GiB)) } } },
        strategy: { impl: 'gmem' },
        workload: {
          impl: 'gather',
          tableBytes: bytes(targetTable),
          accesses: targetAccesses,
          elementBytes: 8,
          initOnCpu: false,
        },
      },
      target: { figure: 'wall', value: 30, label: '30 s' },
    },
    {
      kind: 'sim',
      name: 'sparse-1t',
      title: `sparse footprint: ${bytes(sparseTable)} mapped, ${count(sparseAccesses)} random reads (4 KiB pages), hmm-mirror`,
      doc: gather(sparseTable, sparseAccesses, { ...GPU_4K, cpu: { memory: { capacityBytes: '2TiB' } } }),
      target: { figure: 'rss', value: 200e6, label: '200 MB' },
    },
  ];
}
