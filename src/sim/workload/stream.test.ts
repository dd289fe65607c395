import { describe, expect, it } from 'vitest';
import { drainPlan } from './drain.js';
import { buildStream, streamSchema } from './stream.js';
import { collectRuns, findBadRun } from './testing.js';
import type { StreamSpec } from './types.js';

const env = { seed: 1, deviceContexts: 8, cpuContexts: 4 };

describe('stream schema', () => {
  it('has the documented defaults', () => {
    expect(streamSchema.parse({ impl: 'stream' })).toEqual({
      impl: 'stream',
      arrayBytes: 64 * 1024 * 1024,
      iterations: 3,
      initOnCpu: true,
      readBackOnCpu: true,
      cpuThreads: 1,
      computeCyclesPerLine: 2,
    });
  });

  it('accepts size strings and rejects unknown fields by name', () => {
    expect(streamSchema.parse({ impl: 'stream', arrayBytes: '16KiB' }).arrayBytes).toBe(16384);
    const r = streamSchema.safeParse({ impl: 'stream', iteration: 2 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].message).toBe('unknown field "iteration"; did you mean "iterations"?');
  });
});

describe('buildStream', () => {
  it('plans init, one phase per triad, and readback, with hand-counted runs and bytes', () => {
    const plan = buildStream(streamSchema.parse({ impl: 'stream', arrayBytes: '16KiB', iterations: 2 }), env);
    expect(plan.regions.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(plan.premapped).toEqual([0, 1, 2]);
    expect(plan.phases.map((p) => p.label)).toEqual(['cpu writes b, c', 'triad 1/2', 'triad 2/2', 'cpu reads a']);
    const triad = (plan.phases[1] as { streams: StreamSpec[] }).streams[0];
    expect([triad.agent, triad.contexts, triad.reads, triad.writes, triad.plannedBytes]).toEqual([
      'device',
      0,
      [1, 2],
      [0],
      3 * 16384,
    ]);
    // 4 chunks: init 2 runs each, triad 3 runs each (x2 iterations), readback 1 each.
    expect(drainPlan(plan, { device: 3, cpu: 1 })).toEqual({
      runs: 8 + 24 + 4,
      bytes: 32768 + 2 * 49152 + 16384,
      lines: (32768 + 2 * 49152 + 16384) / 64,
    });
    expect(findBadRun(plan)).toBeNull();
  });

  it('reads b, reads c, writes a for each chunk, grid-stride over contexts', () => {
    const plan = buildStream(
      streamSchema.parse({ impl: 'stream', arrayBytes: 10000, iterations: 1, initOnCpu: false, readBackOnCpu: false }),
      env,
    );
    expect(plan.phases).toHaveLength(1);
    const triad = (plan.phases[0] as { streams: StreamSpec[] }).streams[0];
    const ctx0 = collectRuns(triad, 0, 2).map((r) => [r.region, r.offset, r.bytes, r.write, r.computeCycles]);
    expect(ctx0).toEqual([
      [1, 0, 4096, false, 128],
      [2, 0, 4096, false, 128],
      [0, 0, 4096, true, 128],
      [1, 8192, 1808, false, 58],
      [2, 8192, 1808, false, 58],
      [0, 8192, 1808, true, 58],
    ]);
    expect(collectRuns(triad, 1, 2).map((r) => r.offset)).toEqual([4096, 4096, 4096]);
  });

  it('uses the configured CPU threads for CPU phases', () => {
    const plan = buildStream(streamSchema.parse({ impl: 'stream', arrayBytes: '8KiB', cpuThreads: 0 }), env);
    const init = (plan.phases[0] as { streams: StreamSpec[] }).streams[0];
    expect([init.agent, init.contexts, init.writes, init.reads]).toEqual(['cpu', 0, [1, 2], []]);
  });
});
