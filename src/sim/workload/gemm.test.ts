import { describe, expect, it } from 'vitest';
import { drainPlan } from './drain.js';
import { buildGemm, gemmSchema } from './gemm.js';
import { collectAllRuns, collectRuns, findBadRun } from './testing.js';
import type { StreamSpec, WorkloadPlan } from './types.js';

const env = { seed: 1, deviceContexts: 8, cpuContexts: 4 };
const kernel = (plan: WorkloadPlan) =>
  (plan.phases.find((p) => p.label === 'gemm') as { streams: StreamSpec[] }).streams[0];

describe('gemm schema', () => {
  it('has the documented defaults and names valid element sizes', () => {
    const c = gemmSchema.parse({ impl: 'gemm' });
    expect(c).toMatchObject({
      n: 2048,
      elementBytes: 4,
      tileElements: 64,
      initOnCpu: true,
      readBackOnCpu: true,
      cpuThreads: 1,
      computeCyclesPerLine: 16,
    });
    const r = gemmSchema.safeParse({ impl: 'gemm', elementBytes: 3 });
    expect(r.error?.issues[0].message).toBe('3 is not an element size in bytes; use 1, 2, 4 or 8');
  });
});

describe('buildGemm', () => {
  it('walks A and B tile rows per k tile, then writes the C tile (n = 4, tile 2)', () => {
    const plan = buildGemm(
      gemmSchema.parse({
        impl: 'gemm',
        n: 4,
        tileElements: 2,
        initOnCpu: false,
        readBackOnCpu: false,
        computeCyclesPerLine: 5,
      }),
      env,
    );
    const spec = kernel(plan);
    const runs = collectRuns(spec, 0, 4).map((r) => [r.region, r.offset, r.bytes, r.write]);
    // Tile (0,0); rows are 16 bytes, tile rows 8 bytes.
    expect(runs).toEqual([
      [0, 0, 8, false],
      [0, 16, 8, false],
      [1, 0, 8, false],
      [1, 16, 8, false],
      [0, 8, 8, false],
      [0, 24, 8, false],
      [1, 32, 8, false],
      [1, 48, 8, false],
      [2, 0, 8, true],
      [2, 16, 8, true],
    ]);
    expect(collectRuns(spec, 0, 4)[0].computeCycles).toBe(5);
    // Context 3 of 4 takes tile (1,1): its C rows are rows 2 and 3, columns 2..3.
    expect(
      collectRuns(spec, 3, 4)
        .filter((r) => r.write)
        .map((r) => r.offset),
    ).toEqual([40, 56]);
    const all = collectAllRuns(spec, 3);
    expect(all.length).toBe(40);
    expect(all.reduce((s, r) => s + r.bytes, 0)).toBe(320);
    expect(spec.plannedBytes).toBe(320);
  });

  it('handles edge tiles when n is not a multiple of the tile', () => {
    const plan = buildGemm(gemmSchema.parse({ impl: 'gemm', n: 3, tileElements: 2 }), env);
    const spec = kernel(plan);
    const bytes = collectAllRuns(spec, 2).reduce((s, r) => s + r.bytes, 0);
    expect(bytes).toBe(180);
    expect(spec.plannedBytes).toBe(180);
    expect(findBadRun(plan)).toBeNull();
  });

  it('splits tile rows at 4 KiB boundaries', () => {
    const plan = buildGemm(
      gemmSchema.parse({ impl: 'gemm', n: 1500, tileElements: 1500, initOnCpu: false, readBackOnCpu: false }),
      env,
    );
    expect(findBadRun(plan, 1)).toBeNull();
    const totals = drainPlan(plan);
    expect(totals.bytes).toBe(3 * 1500 * 1500 * 4);
    // Each 6000-byte row crosses one or two 4 KiB boundaries.
    expect(totals.runs).toBeGreaterThan(3 * 1500 * 2);
  });

  it('plans CPU init of A, B and readback of C', () => {
    const plan = buildGemm(gemmSchema.parse({ impl: 'gemm', n: 64, tileElements: 16 }), env);
    expect(plan.phases.map((p) => p.label)).toEqual(['cpu writes A, B', 'gemm', 'cpu reads C']);
    expect(plan.regions.map((r) => [r.name, r.sizeBytes])).toEqual([
      ['A', 16384],
      ['B', 16384],
      ['C', 16384],
    ]);
    expect(drainPlan(plan, { device: 5, cpu: 1 }).bytes).toBe(2 * 16384 + (2 * 16384 * 4 + 16384) + 16384);
  });
});
