import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { drainPlan } from './drain.js';
import { buildWorkload, WORKLOAD_NAMES, workloadSchema } from './index.js';
import { stringTraceSource } from './trace.js';
import { findBadRun } from './testing.js';

const SMALL: Record<string, object> = {
  stream: { impl: 'stream', arrayBytes: '64KiB' },
  gemm: { impl: 'gemm', n: 48, tileElements: 16 },
  gather: { impl: 'gather', tableBytes: '1MiB', accesses: 5000, distribution: 'zipf' },
  'pointer-chase': { impl: 'pointer-chase', nodes: 3000, chains: 4 },
  'ping-pong': { impl: 'ping-pong', bufferBytes: '32KiB', rounds: 3 },
  trace: { impl: 'trace', path: 'mem.trace', regionBytes: '64KiB' },
  'sparse-residency': { impl: 'sparse-residency', poolBytes: '1MiB', residentTiles: 4, tilesPerFrame: 2, frames: 2 },
  scripted: {
    impl: 'scripted',
    ops: [
      { op: 'mmap', name: 'buf', sizeBytes: '20KiB' },
      { op: 'dev.compute', region: 'buf', generator: 'stream' },
      { op: 'cpu.read', region: 'buf' },
    ],
  },
};

const env = () => ({
  seed: 11,
  deviceContexts: 16,
  cpuContexts: 4,
  traceSource: stringTraceSource('LD 0x40\nST 0x1040\n', 'mem.trace'),
});

describe('workload registry', () => {
  it('lists every workload once', () => {
    expect(WORKLOAD_NAMES).toEqual([
      'stream',
      'gemm',
      'gather',
      'pointer-chase',
      'ping-pong',
      'trace',
      'sparse-residency',
      'scripted',
    ]);
    expect(Object.keys(SMALL).sort()).toEqual([...WORKLOAD_NAMES].sort());
  });

  it('reports an unknown impl with the valid names', () => {
    const r = workloadSchema.safeParse({ impl: 'streem' });
    expect(r.error?.issues[0]).toMatchObject({ code: 'invalid_union', options: WORKLOAD_NAMES });
  });

  it.each(Object.keys(SMALL))('builds %s into a plan whose runs keep the contract', (name) => {
    const config = workloadSchema.parse(SMALL[name]);
    const plan = buildWorkload(config, env());
    expect(plan.phases.length).toBeGreaterThan(0);
    expect(findBadRun(plan, 5)).toBeNull();
    if (name === 'scripted') expect(plan.premapped).toEqual([]);
    else expect(plan.premapped).toEqual(plan.regions.map((_, i) => i));
    const totals = drainPlan(buildWorkload(config, env()), { device: 7, cpu: 2 });
    expect(totals.runs).toBeGreaterThan(0);
    // Planned bytes match what the streams emit (the trace's is unknown up front).
    if (name !== 'trace') {
      const planned = plan.phases.reduce(
        (s, p) => s + (p.kind === 'streams' ? p.streams.reduce((t, st) => t + st.plannedBytes, 0) : 0),
        0,
      );
      expect(totals.bytes).toBe(planned);
    }
  });

  it('is deterministic: the same config and seed give the same runs, whatever was built before', () => {
    for (const name of WORKLOAD_NAMES) {
      const config = workloadSchema.parse(SMALL[name]);
      expect(drainPlan(buildWorkload(config, env()), { device: 3, cpu: 1 })).toEqual(
        drainPlan(buildWorkload(config, env()), { device: 3, cpu: 1 }),
      );
    }
  });

  it('generates a JSON Schema in which every field has a description', () => {
    const schema = z.toJSONSchema(workloadSchema, { io: 'input', unrepresentable: 'any' }) as {
      oneOf?: unknown[];
      anyOf?: unknown[];
    };
    const missing: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (!node || typeof node !== 'object') return;
      const n = node as {
        properties?: Record<string, { description?: string }>;
        items?: unknown;
        oneOf?: unknown[];
        anyOf?: unknown[];
      };
      for (const [key, prop] of Object.entries(n.properties ?? {})) {
        if (key !== 'impl' && key !== 'op' && !prop.description) missing.push(`${path}.${key}`);
        walk(prop, `${path}.${key}`);
      }
      walk(n.items, `${path}[]`);
      for (const o of [...(n.oneOf ?? []), ...(n.anyOf ?? [])]) walk(o, path);
    };
    walk(schema, 'workload');
    expect(missing).toEqual([]);
    expect(JSON.stringify(schema)).toContain('STREAM triad');
  });
});
