import { describe, expect, it } from 'vitest';
import { drainPlan } from './drain.js';
import { buildPingPong, pingPongSchema } from './ping-pong.js';
import { collectRuns, findBadRun } from './testing.js';
import type { StreamSpec } from './types.js';

const env = { seed: 1, deviceContexts: 8, cpuContexts: 4 };

describe('ping-pong', () => {
  it('has the documented defaults', () => {
    expect(pingPongSchema.parse({ impl: 'ping-pong' })).toEqual({
      impl: 'ping-pong',
      bufferBytes: 16 * 1024 * 1024,
      rounds: 8,
      cpuThreads: 1,
      overlap: false,
      computeCyclesPerLine: 1,
    });
  });

  it('alternates CPU write, device read-write, CPU read for each round', () => {
    const plan = buildPingPong(pingPongSchema.parse({ impl: 'ping-pong', bufferBytes: '8KiB', rounds: 2 }), env);
    expect(plan.regions).toEqual([{ name: 'buffer', sizeBytes: 8192, prot: 'read-write', shared: false }]);
    expect(plan.phases.map((p) => p.label)).toEqual([
      'round 1: cpu writes',
      'round 1: device reads, writes',
      'round 1: cpu reads',
      'round 2: cpu writes',
      'round 2: device reads, writes',
      'round 2: cpu reads',
    ]);
    const specs = plan.phases.slice(0, 3).map((p) => (p as { streams: StreamSpec[] }).streams[0]);
    expect(specs.map((s) => [s.agent, s.contexts, s.reads, s.writes])).toEqual([
      ['cpu', 1, [], [0]],
      ['device', 0, [0], [0]],
      ['cpu', 1, [0], []],
    ]);
    expect(collectRuns(specs[1], 0, 1).map((r) => [r.offset, r.write])).toEqual([
      [0, false],
      [0, true],
      [4096, false],
      [4096, true],
    ]);
    // Per round: 2 + 4 + 2 runs, 8 + 16 + 8 KiB.
    expect(drainPlan(plan, { device: 2, cpu: 1 })).toEqual({ runs: 16, bytes: 2 * 32768, lines: 1024 });
    expect(findBadRun(plan)).toBeNull();
  });
});
