/** Planning a sweep: every point validated before anything runs, and each point's identity. */
import { describe, expect, it } from 'vitest';
import { planSweep, shardPoints } from '../../src/main/services/sweeps/plan.js';
import { presets } from '../sim/presets.js';

const doc = (sweep: unknown, extra: object = {}) => ({
  name: 'lanes',
  hardware: { preset: 'gpu-pcie4-hbm2' },
  strategy: { impl: 'hmm-mirror' },
  workload: { impl: 'stream', arrayBytes: '1MiB', iterations: 1 },
  sweep,
  ...extra,
});
const plan = (d: unknown) => planSweep(typeof d === 'string' ? d : JSON.stringify(d), { presets });
const lanes = { axes: [{ path: 'hardware.link.lanes', values: [4, 8] }] };

describe('planSweep', () => {
  it('names the axis and the point of a value the field rejects, before anything runs', () => {
    const r = plan(
      doc({
        axes: [
          { path: 'hardware.link.lanes', values: [4, 3] },
          { path: 'workload.iterations', values: [1, 2] },
        ],
      }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toHaveLength(2); // lanes 3 with each iteration count
    expect(r.issues[0].path).toBe('sweep.axes[0]');
    expect(r.issues[0].message).toMatch(
      /^at point 2 \(hardware\.link\.lanes=3 workload\.iterations=1\): hardware\.link\.lanes: .*3.*use .*16/,
    );
  });

  it('names a path that does not exist', () => {
    const r = plan(doc({ axes: [{ path: 'workload.arrayByte', values: ['1MiB'] }] }));
    expect(r.ok || r.issues.map((i) => i.message)).toEqual([
      '"workload.arrayByte" does not exist: "workload" has no field "arrayByte"; did you mean "workload.arrayBytes"?',
    ]);
  });

  it('asks for a sweep section when there is none', () => {
    const r = plan(doc(undefined));
    expect(r.ok || r.issues[0]).toMatchObject({
      path: 'sweep',
      message: expect.stringMatching(/^missing; a sweep needs/),
    });
  });

  it('gives each point the hash of its resolved experiment and seed, whatever the formatting', () => {
    const a = plan(doc({ ...lanes, repetitions: 2 }));
    const b = plan(JSON.stringify({ $comment: 'same sweep', ...doc({ ...lanes, repetitions: 2 }) }, null, 4));
    if (!a.ok || !b.ok) throw new Error('invalid');
    expect(a.points.map((p) => [p.label, p.seed])).toEqual([
      ['hardware.link.lanes=4 repetition 0', 1],
      ['hardware.link.lanes=4 repetition 1', 2],
      ['hardware.link.lanes=8 repetition 0', 1],
      ['hardware.link.lanes=8 repetition 1', 2],
    ]);
    expect(b.points.map((p) => p.hash)).toEqual(a.points.map((p) => p.hash));
    expect(b.id).toBe(a.id);
    expect(new Set(a.points.map((p) => p.hash)).size).toBe(4);
    // A point is an ordinary experiment: no sweep section, the axis value set.
    expect(a.points[2].prepared.experiment.sweep).toBeUndefined();
    expect(a.points[2].prepared.experiment.hardware.link).toMatchObject({ lanes: 8 });
  });

  it('splits into shards whose union is exactly the sweep', () => {
    const r = plan(doc({ axes: [{ path: 'hardware.link.lanes', values: [1, 2, 4, 8, 16] }], repetitions: 3 }));
    if (!r.ok) throw new Error('invalid');
    for (const n of [1, 2, 4, 7, 20]) {
      const shards = Array.from({ length: n }, (_, i) => shardPoints(r.points, i, n));
      const union = shards
        .flat()
        .map((p) => p.hash)
        .sort();
      expect(union).toEqual(r.points.map((p) => p.hash).sort());
    }
  });
});
