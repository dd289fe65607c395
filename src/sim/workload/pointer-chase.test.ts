import { describe, expect, it } from 'vitest';
import { FeistelPermutation } from './permutation.js';
import { buildPointerChase, pointerChaseSchema } from './pointer-chase.js';
import { collectAllRuns, collectRuns, findBadRun } from './testing.js';
import type { StreamSpec, WorkloadPlan } from './types.js';

const env = { seed: 9, deviceContexts: 8, cpuContexts: 4 };
const chase = (plan: WorkloadPlan) =>
  (plan.phases.find((p) => p.label === 'pointer chase') as { streams: StreamSpec[] }).streams[0];
const build = (config: object, e = env) =>
  buildPointerChase(pointerChaseSchema.parse({ impl: 'pointer-chase', ...config }), e);

describe('pointer-chase schema', () => {
  it('has the documented defaults and requires a power-of-two node size', () => {
    expect(pointerChaseSchema.parse({ impl: 'pointer-chase' })).toEqual({
      impl: 'pointer-chase',
      nodes: 1_000_000,
      nodeBytes: 64,
      chains: 1,
      steps: 0,
      initOnCpu: true,
      cpuThreads: 1,
      computeCyclesPerLine: 2,
    });
    expect(pointerChaseSchema.safeParse({ impl: 'pointer-chase', nodeBytes: 96 }).success).toBe(false);
    expect(pointerChaseSchema.safeParse({ impl: 'pointer-chase', nodeBytes: 8192 }).success).toBe(false);
  });
});

describe('buildPointerChase', () => {
  it('visits every node exactly once when walking the whole list', () => {
    const plan = build({ nodes: 1000, nodeBytes: 128 });
    const spec = chase(plan);
    expect([spec.contexts, spec.plannedBytes]).toEqual([1, 128_000]);
    const runs = collectRuns(spec, 0, 1);
    expect(runs.length).toBe(1000);
    const slots = runs.map((r) => r.offset / 128);
    expect(new Set(slots).size).toBe(1000);
    expect(slots.every((s) => Number.isInteger(s) && s >= 0 && s < 1000)).toBe(true);
    expect(runs.every((r) => r.bytes === 128 && !r.write && r.computeCycles === 4)).toBe(true);
    // Pseudo-random order: successive nodes are rarely neighbours.
    let adjacent = 0;
    for (let i = 1; i < slots.length; i++) if (Math.abs(slots[i] - slots[i - 1]) === 1) adjacent++;
    expect(adjacent).toBeLessThan(20);
    expect(findBadRun(plan)).toBeNull();
  });

  it('splits the list between chains, and chains between fewer contexts, still once each', () => {
    const plan = build({ nodes: 1000, chains: 7 }, { ...env, deviceContexts: 3 });
    const spec = chase(plan);
    expect(spec.contexts).toBe(3);
    const runs = collectAllRuns(spec, 3);
    expect(runs.length).toBe(1000);
    expect(new Set(runs.map((r) => r.offset)).size).toBe(1000);
  });

  it('walks `steps` steps per chain from its start, following the layout permutation', () => {
    const plan = build({ nodes: 100, chains: 2, steps: 60, nodeBytes: 4096 });
    const spec = chase(plan);
    expect(spec.plannedBytes).toBe(120 * 4096);
    const layout = new FeistelPermutation(100, env.seed, 'workload.pointer-chase.layout');
    const chain1 = collectRuns(spec, 1, 2).map((r) => r.offset / 4096);
    // Chain 1 starts at list position 50 and wraps after position 99.
    expect(chain1).toEqual(Array.from({ length: 60 }, (_, k) => layout.apply((50 + k) % 100)));
  });

  it('is deterministic for a seed and differs for another', () => {
    const order = (seed: number) => collectRuns(chase(build({ nodes: 500 }, { ...env, seed }))).map((r) => r.offset);
    expect(order(1)).toEqual(order(1));
    expect(order(1)).not.toEqual(order(2));
  });

  it('lists the region and an optional CPU phase that writes the list', () => {
    const plan = build({ nodes: 1000, nodeBytes: 64 });
    expect(plan.regions).toEqual([{ name: 'list', sizeBytes: 64_000, prot: 'read-write', shared: false }]);
    expect(plan.premapped).toEqual([0]);
    expect(plan.phases.map((p) => p.label)).toEqual(['cpu writes list', 'pointer chase']);
    expect(build({ initOnCpu: false, nodes: 10 }).phases.map((p) => p.label)).toEqual(['pointer chase']);
  });
});
