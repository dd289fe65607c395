import { describe, expect, it } from 'vitest';
import { drainPlan } from './drain.js';
import { pingPongSchema, buildPingPong } from './ping-pong.js';
import { buildScripted, scriptedSchema } from './scripted.js';
import type { WorkloadPlan } from './types.js';

const env = { seed: 1, deviceContexts: 8, cpuContexts: 4 };

describe('drainPlan', () => {
  it('counts runs, bytes and touched lines of every stream, whatever the context count', () => {
    const plan = buildPingPong(pingPongSchema.parse({ impl: 'ping-pong', bufferBytes: 10000, rounds: 1 }), env);
    // 3 chunks (4096, 4096, 1808 bytes = 29 lines): CPU write 3 runs, device 6, CPU read 3.
    const expected = { runs: 12, bytes: 40000, lines: 4 * (64 + 64 + 29) };
    expect(drainPlan(plan)).toEqual(expected);
    expect(drainPlan(plan, { device: 5, cpu: 3 })).toEqual(expected);
  });

  it("skips host phases and honours a stream's fixed context count", () => {
    const plan = buildScripted(
      scriptedSchema.parse({
        impl: 'scripted',
        ops: [
          { op: 'mmap', name: 'a', sizeBytes: 4096 },
          { op: 'snapshot', region: 'a' },
        ],
      }),
      env,
    );
    expect(drainPlan(plan)).toEqual({ runs: 0, bytes: 0, lines: 0 });
    let created = 0;
    const fixed: WorkloadPlan = {
      regions: [{ name: 'r', sizeBytes: 4096, prot: 'read-write', shared: false }],
      premapped: [0],
      opNames: [],
      phases: [
        {
          kind: 'streams',
          label: 'x',
          streams: [
            {
              agent: 'cpu',
              contexts: 2,
              reads: [0],
              writes: [],
              plannedBytes: 128,
              create: () => {
                created++;
                let left = 1;
                return { next: (out) => (left-- > 0 ? ((out.offset = 0), (out.bytes = 64), true) : false) };
              },
            },
          ],
        },
      ],
    };
    expect(drainPlan(fixed, { device: 9, cpu: 9 })).toEqual({ runs: 2, bytes: 128, lines: 2 });
    expect(created).toBe(2);
  });
});
