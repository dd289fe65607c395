/**
 * Pieces shared by the generators: the config fields every generator spells the same way,
 * and the chunked sweep stream that most phases are made of.
 */
import { bool, num } from '../schema/fields.js';
import { RUN_LIMIT_BYTES, type AccessRun, type AccessStream, type StreamSpec } from './types.js';

/** Compute cycles are counted per 64-byte line a run touches. */
export const LINE_BYTES = 64;

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** 64-byte lines that `bytes` bytes from `offset` touch. */
export function linesTouched(offset: number, bytes: number): number {
  return Math.floor(((offset % LINE_BYTES) + bytes + LINE_BYTES - 1) / LINE_BYTES);
}

export function computeCyclesPerLineField(defaultCycles: number, guidance: string) {
  return num(
    `Compute cycles (of the issuing agent's clock) a context spends per 64-byte line a run touches, before its next run. ${guidance}`,
    { int: true, min: 0, max: 1_000_000 },
  ).default(defaultCycles);
}

export function initOnCpuField(what: string) {
  return bool(
    `Start with a CPU phase that writes ${what}, as a host that prepares the inputs does (it makes the pages resident in system memory first).`,
  ).default(true);
}

export function readBackOnCpuField(what: string) {
  return bool(`End with a CPU phase that reads ${what}, as a host that consumes the results does.`).default(true);
}

export function cpuThreadsField() {
  return num(
    'CPU cores that run the CPU phases (preparing inputs, reading results), each taking 4 KiB chunks grid-stride; 0 = all cores.',
    {
      int: true,
      min: 0,
      max: 4096,
    },
  ).default(1);
}

/**
 * A grid-stride sweep over the byte range [start, end) of one or more same-shaped
 * regions. The range is cut at 4 KiB boundaries of the region offset into chunks;
 * context `index` of `count` takes chunks index, index + count, ... and for each chunk
 * emits one run per step (steps[k] = region and direction), e.g. read b, read c, write a.
 * The whole sweep repeats `passes` times.
 */
export class SweepStream implements AccessStream {
  private readonly base: number;
  private readonly chunks: number;
  private chunk: number;
  private step = 0;
  private pass = 0;
  private lo = 0;
  private bytes = 0;
  private cycles = 0;

  constructor(
    private readonly regions: readonly number[],
    private readonly writes: readonly boolean[],
    private readonly start: number,
    private readonly end: number,
    private readonly index: number,
    private readonly count: number,
    private readonly cyclesPerLine: number,
    private readonly passes = 1,
  ) {
    this.base = Math.floor(start / RUN_LIMIT_BYTES) * RUN_LIMIT_BYTES;
    this.chunks = end > start ? Math.ceil((end - this.base) / RUN_LIMIT_BYTES) : 0;
    this.chunk = index;
    this.enterChunk();
  }

  private enterChunk(): void {
    const chunkStart = this.base + this.chunk * RUN_LIMIT_BYTES;
    this.lo = Math.max(this.start, chunkStart);
    this.bytes = Math.min(this.end, chunkStart + RUN_LIMIT_BYTES) - this.lo;
    this.cycles = this.cyclesPerLine * linesTouched(this.lo, this.bytes);
  }

  next(out: AccessRun): boolean {
    if (this.chunk >= this.chunks) {
      this.pass++;
      if (this.pass >= this.passes) return false;
      this.chunk = this.index;
      if (this.chunk >= this.chunks) return false;
      this.step = 0;
      this.enterChunk();
    }
    out.region = this.regions[this.step];
    out.write = this.writes[this.step];
    out.offset = this.lo;
    out.bytes = this.bytes;
    out.computeCycles = this.cycles;
    out.notBeforeCycle = -1;
    if (++this.step === this.regions.length) {
      this.step = 0;
      this.chunk += this.count;
      if (this.chunk < this.chunks) this.enterChunk();
    }
    return true;
  }
}

/** A phase's stream that sweeps [start, end) of the given regions (see SweepStream). */
export function sweepSpec(options: {
  agent: 'cpu' | 'device';
  contexts: number;
  steps: readonly { region: number; write: boolean }[];
  start: number;
  end: number;
  cyclesPerLine: number;
  passes?: number;
}): StreamSpec {
  const { agent, contexts, steps, start, end, cyclesPerLine, passes = 1 } = options;
  const regions = steps.map((s) => s.region);
  const writes = steps.map((s) => s.write);
  return {
    agent,
    contexts,
    create: (index: number, count: number): AccessStream =>
      new SweepStream(regions, writes, start, end, index, count, cyclesPerLine, passes),
    reads: unique(steps.filter((s) => !s.write).map((s) => s.region)),
    writes: unique(steps.filter((s) => s.write).map((s) => s.region)),
    plannedBytes: Math.max(0, end - start) * steps.length * passes,
  };
}

function unique(xs: number[]): number[] {
  return [...new Set(xs)];
}

/** Accesses of context `index` when `total` are dealt evenly over `count` contexts. */
export function shareOf(total: number, index: number, count: number): number {
  return Math.floor(total / count) + (index < total % count ? 1 : 0);
}
