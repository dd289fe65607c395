/**
 * pointer-chase: walking a linked list whose nodes lie in pseudo-random order, so each
 * step is a dependent read of a node on an unpredictable page. It measures latency, not
 * bandwidth: every TLB miss, device fault and link round trip shows in full.
 *
 * List position k lives in slot layout(k) of the region, where layout is a seeded
 * Feistel permutation (permutation.ts): O(1) memory whatever the list length.
 */
import { z } from 'zod';
import { num, obj, size } from '../schema/fields.js';
import { computeCyclesPerLineField, cpuThreadsField, initOnCpuField, linesTouched, sweepSpec } from './common.js';
import type { WorkloadEnv } from './env.js';
import { FeistelPermutation, MAX_PERMUTATION_SIZE } from './permutation.js';
import type { AccessRun, AccessStream, Phase, WorkloadPlan } from './types.js';

export const pointerChaseSchema = obj(
  {
    impl: z.literal('pointer-chase').describe('The workload generator.'),
    nodes: num('Nodes in the list.', { int: true, min: 1, max: MAX_PERMUTATION_SIZE }).default(1_000_000),
    nodeBytes: size(
      'Bytes per node, read whole at each step; a power of two up to 4 KiB, so a node never straddles a 4 KiB page.',
      {
        min: 1,
        max: 4096,
        powerOfTwo: true,
      },
    ).default(64),
    chains: num(
      'Independent walks, one per device context (memory-level parallelism). Chain j starts at list position j*nodes/chains. More chains than device contexts are walked one after another.',
      {
        int: true,
        min: 1,
        max: 1 << 20,
      },
    ).default(1),
    steps: num(
      'Dependent reads per chain; 0 = walk the whole list once, split between the chains (each node read exactly once).',
      {
        int: true,
        min: 0,
        max: 2 ** 40,
      },
    ).default(0),
    initOnCpu: initOnCpuField('the list (the host builds it)'),
    cpuThreads: cpuThreadsField(),
    computeCyclesPerLine: computeCyclesPerLineField(2, 'Following a pointer costs little besides the load itself.'),
  },
  'A linked list laid out in pseudo-random order; each chain is a device context doing dependent reads of one node per step.',
);

export type PointerChaseConfig = z.output<typeof pointerChaseSchema>;

/** One context's chains (index, index + count, ...), walked one after another. */
class ChaseStream implements AccessStream {
  private chain: number;
  private pos = 0;
  private left = 0;
  private readonly cycles: number;

  constructor(
    private readonly layout: FeistelPermutation,
    private readonly nodes: number,
    private readonly nodeBytes: number,
    private readonly chains: number,
    private readonly steps: number,
    index: number,
    private readonly count: number,
    cyclesPerLine: number,
  ) {
    this.cycles = cyclesPerLine * linesTouched(0, nodeBytes);
    this.chain = index;
    this.enterChain();
  }

  private enterChain(): void {
    if (this.chain >= this.chains) return;
    const start = chainStart(this.chain, this.nodes, this.chains);
    this.pos = start;
    this.left = this.steps > 0 ? this.steps : chainStart(this.chain + 1, this.nodes, this.chains) - start;
  }

  next(out: AccessRun): boolean {
    while (this.left === 0) {
      if (this.chain >= this.chains) return false;
      this.chain += this.count;
      this.enterChain();
    }
    this.left--;
    out.region = 0;
    out.offset = this.layout.apply(this.pos) * this.nodeBytes;
    out.bytes = this.nodeBytes;
    out.write = false;
    out.computeCycles = this.cycles;
    out.notBeforeCycle = -1;
    if (++this.pos === this.nodes) this.pos = 0;
    return true;
  }
}

function chainStart(chain: number, nodes: number, chains: number): number {
  return Math.floor((chain * nodes) / chains);
}

export function buildPointerChase(config: PointerChaseConfig, env: WorkloadEnv): WorkloadPlan {
  const { nodes, nodeBytes, chains, steps } = config;
  const bytes = nodes * nodeBytes;
  const layout = new FeistelPermutation(nodes, env.seed, 'workload.pointer-chase.layout');
  const totalSteps = steps > 0 ? steps * chains : nodes;
  const phases: Phase[] = [];
  if (config.initOnCpu) {
    phases.push({
      kind: 'streams',
      label: 'cpu writes list',
      streams: [
        sweepSpec({
          agent: 'cpu',
          contexts: config.cpuThreads,
          steps: [{ region: 0, write: true }],
          start: 0,
          end: bytes,
          cyclesPerLine: 0,
        }),
      ],
    });
  }
  phases.push({
    kind: 'streams',
    label: 'pointer chase',
    streams: [
      {
        agent: 'device',
        contexts: Math.max(1, Math.min(chains, env.deviceContexts)),
        create: (index, count) =>
          new ChaseStream(layout, nodes, nodeBytes, chains, steps, index, count, config.computeCyclesPerLine),
        reads: [0],
        writes: [],
        plannedBytes: totalSteps * nodeBytes,
      },
    ],
  });
  return {
    regions: [{ name: 'list', sizeBytes: bytes, prot: 'read-write', shared: false }],
    premapped: [0],
    phases,
    opNames: [],
  };
}
