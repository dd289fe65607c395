/**
 * gather: random reads of small elements from a large table (embedding lookups, sparse
 * gathers, hash joins). Nearly every access touches a new page, so it is the worst case
 * for translation and fault handling, and with a skewed (Zipf) distribution it shows
 * whether a strategy keeps the hot pages close to the device.
 */
import { z } from 'zod';
import { Rng } from '../engine/rng.js';
import { num, obj, oneOf, size } from '../schema/fields.js';
import {
  computeCyclesPerLineField,
  cpuThreadsField,
  GiB,
  initOnCpuField,
  linesTouched,
  shareOf,
  sweepSpec,
} from './common.js';
import type { WorkloadEnv } from './env.js';
import { FeistelPermutation, MAX_PERMUTATION_SIZE } from './permutation.js';
import type { AccessRun, AccessStream, Phase, WorkloadPlan } from './types.js';
import { ZipfSampler } from './zipf.js';

export const gatherSchema = obj(
  {
    impl: z.literal('gather').describe('The workload generator.'),
    tableBytes: size('Size of the table the elements are read from, in bytes (or "1GiB").', { min: 4096 }).default(
      1 * GiB,
    ),
    elementBytes: size(
      'Bytes per element read; a power of two up to 4 KiB, so an element never straddles a 4 KiB page.',
      {
        min: 1,
        max: 4096,
        powerOfTwo: true,
      },
    ).default(8),
    accesses: num('Element reads in total, dealt evenly over the device contexts.', {
      int: true,
      min: 1,
      max: 2 ** 40,
    }).default(1_000_000),
    distribution: oneOf(
      ['uniform', 'zipf'],
      'a distribution',
      'Which elements are read: "uniform" (every element equally likely) or "zipf" (rank k with probability proportional to k^-zipfS).',
    ).default('uniform'),
    zipfS: num('Zipf exponent s (distribution "zipf"): larger is more skewed. 0.99 is the YCSB default.', {
      gt: 0,
      max: 10,
    }).default(0.99),
    hotLayout: oneOf(
      ['scattered', 'clustered'],
      'a hot-element layout',
      'Where the frequent Zipf elements sit: "scattered" over the table by a seeded permutation (as hot keys of a hash table or embedding do), or "clustered" at its start (rank k is element k).',
    ).default('scattered'),
    initOnCpu: initOnCpuField('the table'),
    cpuThreads: cpuThreadsField(),
    computeCyclesPerLine: computeCyclesPerLineField(
      4,
      'A gather does little work per element: index arithmetic and an add.',
    ),
  },
  'Random reads of elementBytes from a table, by device contexts, with element indices from a seeded random stream (uniform or Zipf).',
);

export type GatherConfig = z.output<typeof gatherSchema>;

/** The choice of elements: shared by the gather workload and the scripted dev.compute op. */
export interface GatherParams {
  tableBytes: number;
  elementBytes: number;
  accesses: number;
  distribution: 'uniform' | 'zipf';
  zipfS: number;
  hotLayout: 'scattered' | 'clustered';
  computeCyclesPerLine: number;
}

/** One context's reads: `count` elements, indices from its own named Rng stream. */
export class GatherStream implements AccessStream {
  private left: number;
  private readonly elements: number;
  private readonly rng: Rng;
  private readonly zipf: ZipfSampler | null;
  private readonly elementBytes: number;
  private readonly cycles: number;

  constructor(
    p: GatherParams,
    private readonly region: number,
    private readonly baseOffset: number,
    count: number,
    seed: number,
    streamName: string,
    private readonly layout: FeistelPermutation | null,
  ) {
    this.left = count;
    this.elements = Math.floor(p.tableBytes / p.elementBytes);
    this.rng = new Rng(seed, streamName);
    this.zipf = p.distribution === 'zipf' ? new ZipfSampler(this.elements, p.zipfS, this.rng) : null;
    this.elementBytes = p.elementBytes;
    // Elements are aligned to their power-of-two size, so each touches exactly one line
    // unless it is larger than one (with an aligned base offset).
    this.cycles = p.computeCyclesPerLine * linesTouched(baseOffset, p.elementBytes);
  }

  next(out: AccessRun): boolean {
    if (this.left === 0) return false;
    this.left--;
    let index: number;
    if (this.zipf === null) index = this.rng.nextInt(this.elements);
    else {
      const rank = this.zipf.sample();
      index = this.layout === null ? rank : this.layout.apply(rank);
    }
    out.region = this.region;
    out.offset = this.baseOffset + index * this.elementBytes;
    out.bytes = this.elementBytes;
    out.write = false;
    out.computeCycles = this.cycles;
    out.notBeforeCycle = -1;
    return true;
  }
}

/** The permutation that scatters Zipf ranks over the table, or null if none is needed. */
export function gatherLayout(p: GatherParams, seed: number, streamName: string): FeistelPermutation | null {
  const elements = Math.floor(p.tableBytes / p.elementBytes);
  if (p.distribution !== 'zipf' || p.hotLayout !== 'scattered') return null;
  if (elements > MAX_PERMUTATION_SIZE)
    throw new RangeError(`a scattered Zipf layout supports up to 2^32 elements, got ${elements}`);
  return new FeistelPermutation(elements, seed, streamName);
}

export function buildGather(config: GatherConfig, env: WorkloadEnv): WorkloadPlan {
  const TABLE = 0;
  const phases: Phase[] = [];
  if (config.initOnCpu) {
    phases.push({
      kind: 'streams',
      label: 'cpu writes table',
      streams: [
        sweepSpec({
          agent: 'cpu',
          contexts: config.cpuThreads,
          steps: [{ region: TABLE, write: true }],
          start: 0,
          end: config.tableBytes,
          cyclesPerLine: 0,
        }),
      ],
    });
  }
  const layout = gatherLayout(config, env.seed, 'workload.gather.layout');
  phases.push({
    kind: 'streams',
    label: 'gather',
    streams: [
      {
        agent: 'device',
        contexts: 0,
        create: (index, count) =>
          new GatherStream(
            config,
            TABLE,
            0,
            shareOf(config.accesses, index, count),
            env.seed,
            `workload.gather.context${index}`,
            layout,
          ),
        reads: [TABLE],
        writes: [],
        plannedBytes: config.accesses * config.elementBytes,
      },
    ],
  });
  return {
    regions: [{ name: 'table', sizeBytes: config.tableBytes, prot: 'read-write', shared: false }],
    premapped: [TABLE],
    phases,
    opNames: [],
  };
}
