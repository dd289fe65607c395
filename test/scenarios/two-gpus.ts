/**
 * Scripted runs on two gpu-pcie4-hbm2 GPUs, for the peer-to-peer scenarios: a 16 MiB
 * region `buf`, then the ops; the GPUs under a Gen4 x16 PCIe switch (with ACS redirecting
 * their peer requests to the root complex, or not), each on a root port of its own, or
 * with no peer route at all (the root complex refuses peer traffic).
 */
import { expect } from 'vitest';
import { parseExperiment, simulate, type RunResult } from '../../src/sim/index.js';
import { presets } from '../sim/presets.js';

export type Topology = 'switch' | 'root-ports' | 'switch-acs' | 'no-route';

export interface TwoGpuRun {
  name: string;
  topology: Topology;
  strategy: Record<string, unknown>;
  ops: Record<string, unknown>[];
  /** Fields for the first device (the second takes the preset's). */
  firstDevice?: Record<string, unknown>;
  /** More hardware fields. */
  hardware?: Record<string, unknown>;
}

/** Runs it, and checks that no op ended otherwise than its script expects. */
export function runTwoGpus(run: TwoGpuRun): RunResult {
  const { topology } = run;
  const pcieSwitch = {
    upstreamLink: { impl: 'pcie', generation: 4, lanes: 16 },
    ...(topology === 'switch-acs' ? { acsRedirect: true } : {}),
  };
  const r = simulate(
    parseExperiment(
      {
        name: `${run.name}, ${topology}`,
        hardware: {
          preset: 'gpu-pcie4-hbm2',
          devices: [run.firstDevice ?? {}, {}],
          ...(topology.startsWith('switch') ? { pcieSwitch } : {}),
          ...(topology === 'no-route' ? { peerToPeer: { hostBridge: false } } : {}),
          ...run.hardware,
        },
        strategy: run.strategy,
        workload: { impl: 'scripted', ops: [{ op: 'mmap', name: 'buf', sizeBytes: '16MiB' }, ...run.ops] },
      },
      presets,
    ),
  );
  expect(r.ops.filter((o) => o.unexpected)).toEqual([]);
  return r;
}

/** A metric's value (undefined when the run does not report it). */
export const metric = (r: RunResult, name: string): number => r.metrics[name]?.value;
/** How long the script's op `index` took, in ns. */
export const duration = (r: RunResult, index: number): number => r.ops.find((o) => o.index === index)!.durationNs;
