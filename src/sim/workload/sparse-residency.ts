/**
 * sparse-residency: a game's streaming texture pool (Vulkan sparse residency). The pool is
 * one virtual range; only some of its tiles are bound to memory. Every frame the engine
 * unbinds the tiles it no longer needs (munmap), binds the ones the camera now sees
 * (mmap MAP_FIXED into the holes), uploads their texels from the CPU, and the device
 * samples every resident tile. Thousands of map and unmap operations per simulated
 * second: what the drm/xe discussion weighed for SVM (one large mirrored window against
 * ad-hoc 2 MiB ranges created and destroyed as the CPU side changes).
 */
import { z } from 'zod';
import { Rng } from '../engine/rng.js';
import { num, obj, size } from '../schema/fields.js';
import { computeCyclesPerLineField, KiB, linesTouched, MiB } from './common.js';
import type { WorkloadEnv } from './env.js';
import { RUN_LIMIT_BYTES, type AccessRun, type AccessStream, type Phase, type WorkloadPlan } from './types.js';

export const sparseResidencySchema = obj(
  {
    impl: z.literal('sparse-residency').describe('The workload generator.'),
    poolBytes: size('Virtual size of the texture pool (the sparse resource).', { min: 64 * KiB }).default(64 * MiB),
    tileBytes: size(
      "Size of one tile, bound and unbound whole. Default 64 KiB: Vulkan's standard sparse block size (the standard sparse image block shapes are 64 KiB).",
      { min: 4 * KiB, max: 2 * MiB },
    ).default(64 * KiB),
    residentTiles: num('Tiles bound at any time.', { int: true, min: 1, max: 1_000_000 }).default(64),
    tilesPerFrame: num('Tiles unbound and as many bound each frame.', { int: true, min: 0, max: 100_000 }).default(16),
    frames: num('Frames: each unbinds, binds, uploads and samples.', { int: true, min: 1, max: 100_000 }).default(10),
    computeCyclesPerLine: computeCyclesPerLineField(4, 'A few cycles: texture sampling is filtering, not arithmetic.'),
  },
  'A streaming texture pool with sparse residency: each frame unbinds tilesPerFrame tiles (munmap), binds as many others (mmap MAP_FIXED), writes them from the CPU and has the device read every resident tile.',
).superRefine((c, ctx) => {
  const tiles = Math.floor(c.poolBytes / c.tileBytes);
  if (c.tileBytes % (4 * KiB) !== 0)
    ctx.addIssue({
      code: 'custom',
      path: ['tileBytes'],
      message: `${c.tileBytes} bytes is not a whole number of 4 KiB pages`,
    });
  else if (c.residentTiles > tiles)
    ctx.addIssue({
      code: 'custom',
      path: ['residentTiles'],
      message: `${c.residentTiles} tiles do not fit in a pool of ${tiles}; use at most ${tiles}`,
    });
  else if (c.tilesPerFrame > Math.min(c.residentTiles, tiles - c.residentTiles))
    ctx.addIssue({
      code: 'custom',
      path: ['tilesPerFrame'],
      message: `${c.tilesPerFrame} tiles per frame: a frame can swap at most ${Math.min(c.residentTiles, tiles - c.residentTiles)} (the resident tiles, and the pool's other tiles)`,
    });
});

export type SparseResidencyConfig = z.output<typeof sparseResidencySchema>;

/** Reads or writes a list of tiles whole; context `index` of `count` takes tiles index, index + count, ... */
class TileStream implements AccessStream {
  private tile: number;
  private offset = 0;

  constructor(
    private readonly tiles: readonly number[],
    private readonly tileBytes: number,
    private readonly write: boolean,
    private readonly cyclesPerLine: number,
    index: number,
    private readonly count: number,
  ) {
    this.tile = index;
  }

  next(out: AccessRun): boolean {
    if (this.tile >= this.tiles.length) return false;
    const base = this.tiles[this.tile] * this.tileBytes;
    const bytes = Math.min(RUN_LIMIT_BYTES, this.tileBytes - this.offset);
    out.region = 0;
    out.offset = base + this.offset;
    out.bytes = bytes;
    out.write = this.write;
    out.computeCycles = this.cyclesPerLine * linesTouched(out.offset, bytes);
    out.notBeforeCycle = -1;
    this.offset += bytes;
    if (this.offset >= this.tileBytes) {
      this.offset = 0;
      this.tile += this.count;
    }
    return true;
  }
}

export function buildSparseResidency(config: SparseResidencyConfig, env: WorkloadEnv): WorkloadPlan {
  const POOL = 0;
  const tile = config.tileBytes;
  const poolTiles = Math.floor(config.poolBytes / tile);
  const rng = new Rng(env.seed, 'workload.sparse-residency');
  const phases: Phase[] = [];
  const tileStreams = (agent: 'cpu' | 'device', tiles: number[], write: boolean, label: string): Phase => ({
    kind: 'streams',
    label,
    streams: [
      {
        agent,
        contexts: agent === 'cpu' ? 1 : 0,
        create: (index, count) =>
          new TileStream(tiles, tile, write, agent === 'cpu' ? 0 : config.computeCyclesPerLine, index, count),
        reads: write ? [] : [POOL],
        writes: write ? [POOL] : [],
        plannedBytes: tiles.length * tile,
      },
    ],
  });

  // The first residentTiles tiles are bound; the rest of the pool starts as a hole.
  const resident = Array.from({ length: config.residentTiles }, (_, i) => i);
  const free = Array.from({ length: poolTiles - config.residentTiles }, (_, i) => config.residentTiles + i);
  if (free.length > 0) {
    phases.push({
      kind: 'host',
      label: 'unbind the pool beyond the resident tiles',
      host: { op: 'munmap', region: POOL, offset: config.residentTiles * tile, bytes: free.length * tile },
    });
  }
  phases.push(tileStreams('cpu', [...resident], true, 'upload the resident tiles'));
  for (let f = 0; f < config.frames; f++) {
    const out = takeRandom(rng, resident, config.tilesPerFrame);
    const incoming = takeRandom(rng, free, config.tilesPerFrame);
    for (const t of out) {
      phases.push({
        kind: 'host',
        label: `frame ${f}: unbind tile ${t}`,
        host: { op: 'munmap', region: POOL, offset: t * tile, bytes: tile },
      });
    }
    for (const t of incoming) {
      phases.push({
        kind: 'host',
        label: `frame ${f}: bind tile ${t}`,
        host: { op: 'mmap-fixed', region: POOL, offset: t * tile, bytes: tile },
      });
    }
    free.push(...out);
    resident.push(...incoming);
    if (incoming.length > 0) phases.push(tileStreams('cpu', incoming, true, `frame ${f}: upload`));
    phases.push(tileStreams('device', [...resident], false, `frame ${f}: sample`));
  }
  return {
    regions: [{ name: 'pool', sizeBytes: poolTiles * tile, prot: 'read-write', shared: false }],
    premapped: [POOL],
    phases,
    opNames: [],
  };
}

/** Removes and returns n elements of `from` chosen at random (swap-remove: order changes, deterministically). */
function takeRandom(rng: Rng, from: number[], n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = rng.nextInt(from.length);
    out.push(from[k]);
    from[k] = from[from.length - 1];
    from.pop();
  }
  return out;
}
