/**
 * gemm: tiled dense matrix multiply C = A x B (square, row-major), the kernel behind most
 * accelerator workloads. Unlike stream it reuses data: each A and B tile is read once per
 * C tile that needs it, so the reuse distance and the tile rows' page footprint decide
 * how a strategy's translation and migration costs show.
 */
import { z } from 'zod';
import { num, obj, oneOf } from '../schema/fields.js';
import {
  computeCyclesPerLineField,
  cpuThreadsField,
  initOnCpuField,
  linesTouched,
  readBackOnCpuField,
  sweepSpec,
} from './common.js';
import type { WorkloadEnv } from './env.js';
import { RUN_LIMIT_BYTES, type AccessRun, type AccessStream, type Phase, type WorkloadPlan } from './types.js';

export const gemmSchema = obj(
  {
    impl: z.literal('gemm').describe('The workload generator.'),
    n: num('Matrix dimension: A, B and C are n x n, row-major.', { int: true, min: 1, max: 1 << 18 }).default(2048),
    elementBytes: oneOf(
      [1, 2, 4, 8],
      'an element size in bytes',
      'Bytes per matrix element: 1 (int8), 2 (fp16/bf16), 4 (fp32), 8 (fp64).',
    ).default(4),
    tileElements: num(
      'Tile edge in elements: a context computes one tileElements x tileElements tile of C at a time. Edge tiles are smaller when n is not a multiple.',
      { int: true, min: 1, max: 1 << 16 },
    ).default(64),
    initOnCpu: initOnCpuField('A and B'),
    readBackOnCpu: readBackOnCpuField('C'),
    cpuThreads: cpuThreadsField(),
    computeCyclesPerLine: computeCyclesPerLineField(
      16,
      "A k step of a T x T tile does 2T^3 flops on 2T^2 elements of A and B, i.e. 64*T/elementBytes flops per line read (1024 for the defaults); divide by a context's flops per cycle (a 32-lane FMA warp: 64) to get this value.",
    ),
  },
  'Tiled C = A x B: device contexts take C tiles round robin; for each k tile a context reads the A tile rows and the B tile rows (each row a contiguous run, split at 4 KiB), then writes the C tile rows.',
);

export type GemmConfig = z.output<typeof gemmSchema>;

const A = 0;
const B = 1;
const C = 2;
const PART_A = 0;
const PART_B = 1;
const PART_C = 2;

/**
 * One context's share of the C tiles (index, index + count, ...). Within a tile, for each
 * k tile: the A tile's rows, then the B tile's rows; after the last k tile, the C tile's
 * rows. A row is cut at 4 KiB boundaries.
 */
class GemmStream implements AccessStream {
  private readonly tilesPerEdge: number;
  private readonly tiles: number;
  private readonly rowStride: number;
  private tile: number;
  private kt = 0;
  private part = PART_A;
  private row = 0;
  private rowPos = 0;
  // The current part, cached on entry: region, first row's offset, row count and length.
  private region = A;
  private firstRow = 0;
  private rows = 0;
  private rowBytes = 0;

  constructor(
    private readonly n: number,
    private readonly eb: number,
    private readonly t: number,
    index: number,
    private readonly count: number,
    private readonly cyclesPerLine: number,
  ) {
    this.tilesPerEdge = Math.ceil(n / t);
    this.tiles = this.tilesPerEdge * this.tilesPerEdge;
    this.rowStride = n * eb;
    this.tile = index;
    if (this.tile < this.tiles) this.enterPart();
  }

  /** Elements of the tile edge starting at tile index `i`. */
  private edge(i: number): number {
    return Math.min(this.t, this.n - i * this.t);
  }

  private enterPart(): void {
    const ti = Math.floor(this.tile / this.tilesPerEdge);
    const tj = this.tile - ti * this.tilesPerEdge;
    const t = this.t;
    let r0: number;
    let c0: number;
    let cols: number;
    if (this.part === PART_A) {
      this.region = A;
      r0 = ti * t;
      this.rows = this.edge(ti);
      c0 = this.kt * t;
      cols = this.edge(this.kt);
    } else if (this.part === PART_B) {
      this.region = B;
      r0 = this.kt * t;
      this.rows = this.edge(this.kt);
      c0 = tj * t;
      cols = this.edge(tj);
    } else {
      this.region = C;
      r0 = ti * t;
      this.rows = this.edge(ti);
      c0 = tj * t;
      cols = this.edge(tj);
    }
    this.firstRow = r0 * this.rowStride + c0 * this.eb;
    this.rowBytes = cols * this.eb;
    this.row = 0;
    this.rowPos = 0;
  }

  next(out: AccessRun): boolean {
    if (this.tile >= this.tiles) return false;
    const offset = this.firstRow + this.row * this.rowStride + this.rowPos;
    const bytes = Math.min(this.rowBytes - this.rowPos, RUN_LIMIT_BYTES - (offset % RUN_LIMIT_BYTES));
    out.region = this.region;
    out.offset = offset;
    out.bytes = bytes;
    out.write = this.part === PART_C;
    out.computeCycles = this.cyclesPerLine * linesTouched(offset, bytes);
    out.notBeforeCycle = -1;
    this.rowPos += bytes;
    if (this.rowPos === this.rowBytes) {
      this.rowPos = 0;
      if (++this.row === this.rows) this.nextPart();
    }
    return true;
  }

  private nextPart(): void {
    if (this.part === PART_A) this.part = PART_B;
    else if (this.part === PART_B) {
      if (++this.kt < this.tilesPerEdge) this.part = PART_A;
      else this.part = PART_C;
    } else {
      this.tile += this.count;
      this.kt = 0;
      this.part = PART_A;
      if (this.tile >= this.tiles) return;
    }
    this.enterPart();
  }
}

export function buildGemm(config: GemmConfig, _env: WorkloadEnv): WorkloadPlan {
  const { n, elementBytes: eb, tileElements: t } = config;
  const bytes = n * n * eb;
  const regions = ['A', 'B', 'C'].map((name) => ({
    name,
    sizeBytes: bytes,
    prot: 'read-write' as const,
    shared: false,
  }));
  const tilesPerEdge = Math.ceil(n / t);
  const phases: Phase[] = [];
  if (config.initOnCpu) {
    phases.push({
      kind: 'streams',
      label: 'cpu writes A, B',
      streams: [
        sweepSpec({
          agent: 'cpu',
          contexts: config.cpuThreads,
          steps: [
            { region: A, write: true },
            { region: B, write: true },
          ],
          start: 0,
          end: bytes,
          cyclesPerLine: 0,
        }),
      ],
    });
  }
  phases.push({
    kind: 'streams',
    label: 'gemm',
    streams: [
      {
        agent: 'device',
        contexts: 0,
        create: (index, count) => new GemmStream(n, eb, t, index, count, config.computeCyclesPerLine),
        reads: [A, B],
        writes: [C],
        // Every C tile reads a full row band of A and column band of B: summed over the
        // tiles that is n*n elements of each, once per tile along the other edge.
        plannedBytes: 2 * bytes * tilesPerEdge + bytes,
      },
    ],
  });
  if (config.readBackOnCpu) {
    phases.push({
      kind: 'streams',
      label: 'cpu reads C',
      streams: [
        sweepSpec({
          agent: 'cpu',
          contexts: config.cpuThreads,
          steps: [{ region: C, write: false }],
          start: 0,
          end: bytes,
          cyclesPerLine: 0,
        }),
      ],
    });
  }
  return { regions, premapped: [A, B, C], phases, opNames: [] };
}
