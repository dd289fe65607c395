import { describe, expect, it } from 'vitest';
import { buildSparseResidency, sparseResidencySchema } from './sparse-residency.js';
import { collectAllRuns, findBadRun } from './testing.js';
import type { HostOp, StreamSpec, WorkloadPlan } from './types.js';

const env = { seed: 1, deviceContexts: 8, cpuContexts: 4 };
const KiB = 1024;
const small = { impl: 'sparse-residency', poolBytes: '1MiB', residentTiles: 4, tilesPerFrame: 2, frames: 3 };
const build = (doc: object = small) => buildSparseResidency(sparseResidencySchema.parse(doc), env);
const hostOps = (plan: WorkloadPlan) =>
  plan.phases.flatMap((p) => (p.kind === 'host' ? [p.host] : [])) as (HostOp & { offset: number; bytes: number })[];

describe('sparse-residency', () => {
  it('each frame unbinds and binds tilesPerFrame tiles, uploads the new ones and samples every resident tile', () => {
    const plan = build();
    expect(findBadRun(plan)).toBeNull();
    const ops = hostOps(plan);
    // The pool beyond the 4 resident tiles starts unbound: one munmap of 12 tiles.
    expect(ops[0]).toEqual({ op: 'munmap', region: 0, offset: 4 * 64 * KiB, bytes: 12 * 64 * KiB });
    const frame = ops.slice(1, 5);
    expect(frame.map((o) => o.op)).toEqual(['munmap', 'munmap', 'mmap-fixed', 'mmap-fixed']);
    // A tile is bound only while unbound: binds land in holes, unbinds on bound tiles.
    const bound = new Set([0, 1, 2, 3]);
    for (const o of ops.slice(1)) {
      const tile = o.offset / (64 * KiB);
      if (o.op === 'munmap') expect(bound.delete(tile)).toBe(true);
      else {
        expect(bound.has(tile)).toBe(false);
        bound.add(tile);
      }
    }
    const sample = plan.phases.find((p) => p.label === 'frame 2: sample') as { streams: StreamSpec[] };
    const read = new Set(collectAllRuns(sample.streams[0], 8).map((r) => Math.floor(r.offset / (64 * KiB))));
    expect(read).toEqual(bound);
  });

  it('is the same plan for the same seed, another for another seed', () => {
    expect(hostOps(build())).toEqual(hostOps(build()));
    const other = buildSparseResidency(sparseResidencySchema.parse(small), { ...env, seed: 2 });
    expect(hostOps(other)).not.toEqual(hostOps(build()));
  });

  it('refuses more resident tiles than the pool holds, or more swaps per frame than it can make', () => {
    const issue = (doc: object) => sparseResidencySchema.safeParse({ ...small, ...doc }).error?.issues[0];
    expect(issue({ residentTiles: 17 })?.message).toBe('17 tiles do not fit in a pool of 16; use at most 16');
    expect(issue({ tilesPerFrame: 5 })?.message).toMatch(/a frame can swap at most 4/);
    expect(issue({ tileBytes: 6000 })?.message).toBe('6000 bytes is not a whole number of 4 KiB pages');
  });
});
