import { describe, expect, it } from 'vitest';
import { buildGather, gatherSchema } from './gather.js';
import { collectAllRuns, findBadRun } from './testing.js';
import type { StreamSpec, WorkloadPlan } from './types.js';

const env = { seed: 1, deviceContexts: 8, cpuContexts: 4 };
const kernel = (plan: WorkloadPlan) =>
  (plan.phases.find((p) => p.label === 'gather') as { streams: StreamSpec[] }).streams[0];
const offsets = (plan: WorkloadPlan, count = 3) => collectAllRuns(kernel(plan), count).map((r) => r.offset);

describe('gather schema', () => {
  it('has the documented defaults', () => {
    expect(gatherSchema.parse({ impl: 'gather' })).toEqual({
      impl: 'gather',
      tableBytes: 1024 ** 3,
      elementBytes: 8,
      accesses: 1_000_000,
      distribution: 'uniform',
      zipfS: 0.99,
      hotLayout: 'scattered',
      initOnCpu: true,
      cpuThreads: 1,
      computeCyclesPerLine: 4,
    });
  });

  it('rejects an element size that is not a power of two', () => {
    const r = gatherSchema.safeParse({ impl: 'gather', elementBytes: 12 });
    expect(r.error?.issues[0].message).toMatch(/not a power of two/);
    expect(gatherSchema.safeParse({ impl: 'gather', distribution: 'normal' }).error?.issues[0].message).toBe(
      '"normal" is not a distribution; use "uniform" or "zipf"',
    );
  });
});

describe('buildGather', () => {
  const small = { impl: 'gather', tableBytes: '64KiB', accesses: 1000 };

  it('splits the accesses over contexts, element-aligned reads inside the table', () => {
    const plan = buildGather(gatherSchema.parse(small), env);
    expect(plan.phases.map((p) => p.label)).toEqual(['cpu writes table', 'gather']);
    const spec = kernel(plan);
    expect([spec.agent, spec.contexts, spec.reads, spec.writes, spec.plannedBytes]).toEqual([
      'device',
      0,
      [0],
      [],
      8000,
    ]);
    const runs = collectAllRuns(spec, 3);
    expect(runs.length).toBe(1000);
    expect(
      runs.every((r) => r.bytes === 8 && r.offset % 8 === 0 && r.offset < 65536 && !r.write && r.computeCycles === 4),
    ).toBe(true);
    expect(findBadRun(plan)).toBeNull();
    // Roughly uniform: every 4 KiB page of the table is hit.
    expect(new Set(runs.map((r) => Math.floor(r.offset / 4096))).size).toBe(16);
  });

  it('is deterministic for a seed and differs for another', () => {
    const config = gatherSchema.parse(small);
    expect(offsets(buildGather(config, env))).toEqual(offsets(buildGather(config, env)));
    expect(offsets(buildGather(config, env))).not.toEqual(offsets(buildGather(config, { ...env, seed: 2 })));
    const zipf = gatherSchema.parse({ ...small, distribution: 'zipf' });
    expect(offsets(buildGather(zipf, env))).toEqual(offsets(buildGather(zipf, env)));
    expect(offsets(buildGather(zipf, env))).not.toEqual(offsets(buildGather(zipf, { ...env, seed: 2 })));
  });

  const topShare = (counts: Map<number, number>, top: number, total: number) =>
    [...counts.values()]
      .sort((a, b) => b - a)
      .slice(0, top)
      .reduce((s, c) => s + c, 0) / total;

  function counts(config: object): Map<number, number> {
    const m = new Map<number, number>();
    for (const o of offsets(buildGather(gatherSchema.parse(config), env), 4)) m.set(o, (m.get(o) ?? 0) + 1);
    return m;
  }

  it('zipf: the top 1% of elements gets a large share of the reads; uniform does not', () => {
    const base = { impl: 'gather', tableBytes: 80_000, accesses: 200_000, initOnCpu: false };
    // 10 000 elements; for s = 0.99 the exact share of the top 100 is 0.518.
    const scattered = counts({ ...base, distribution: 'zipf' });
    expect(topShare(scattered, 100, 200_000)).toBeGreaterThan(0.45);
    expect(topShare(counts({ ...base, distribution: 'uniform' }), 100, 200_000)).toBeLessThan(0.03);
    // Clustered: the hottest elements are the first ones.
    const clustered = counts({ ...base, distribution: 'zipf', hotLayout: 'clustered' });
    let first100 = 0;
    for (let i = 0; i < 100; i++) first100 += clustered.get(i * 8) ?? 0;
    expect(first100 / 200_000).toBeGreaterThan(0.45);
    // Scattered: the hot elements are spread over the table, not at its start.
    let scatteredFirst100 = 0;
    for (let i = 0; i < 100; i++) scatteredFirst100 += scattered.get(i * 8) ?? 0;
    expect(scatteredFirst100 / 200_000).toBeLessThan(0.2);
  });

  it('skips the CPU phase when initOnCpu is false', () => {
    const plan = buildGather(gatherSchema.parse({ ...small, initOnCpu: false }), env);
    expect(plan.phases.map((p) => p.label)).toEqual(['gather']);
  });
});
