/**
 * Fuzz: experiment documents generated from the schema, with boundary values and
 * mutations. Holds that validation never throws, that every document that validates
 * runs to the end or fails cleanly (a WorkloadError or HorizonError, never an internal
 * error), and that no metric is negative or non-finite. Workloads stay small, so each
 * run takes milliseconds; the hardware is what gets pushed to its bounds.
 *
 * fast-check runs with a fixed seed and prints it, with the failing document, on failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { experimentJsonSchema, simulate, validateExperiment } from '../../src/sim/index.js';
import { presets } from './presets.js';

interface Leaf {
  path: string[];
  kind: 'number' | 'integer' | 'size';
  min?: number;
  max?: number;
}

/** Every number and size under `node` in the generated JSON Schema, with its bounds. */
function leaves(node: Record<string, unknown>, path: string[] = []): Leaf[] {
  if (node.type === 'object' && node.properties) {
    return Object.entries(node.properties as Record<string, Record<string, unknown>>).flatMap(([k, v]) =>
      leaves(v, [...path, k]),
    );
  }
  if (node.type === 'number' || node.type === 'integer') {
    const min = (node.minimum ?? node.exclusiveMinimum) as number | undefined;
    return [{ path, kind: node.type, min, max: node.maximum as number | undefined }];
  }
  const anyOf = node.anyOf as Record<string, unknown>[] | undefined;
  if (anyOf?.some((n) => n.type === 'number') && anyOf.some((n) => n.type === 'string'))
    return [{ path, kind: 'size' }];
  return [];
}

const schema = experimentJsonSchema() as { properties: Record<string, Record<string, unknown>> };
const LEAVES = [
  ...leaves(schema.properties.hardware, ['hardware']),
  ...leaves(schema.properties.sampling, ['sampling']),
  { path: ['seed'], kind: 'integer', min: 0, max: 2 ** 32 - 1 } as Leaf,
];

/** Values at and inside the bounds (mostly), around them, and the values that broke runs before. */
function boundaryValues(leaf: Leaf): fc.Arbitrary<unknown> {
  const { min = 0, max = 2 ** 53 } = leaf;
  const round = (v: number) => (leaf.kind === 'number' ? v : Math.round(v));
  const inside = fc.constantFrom(min, max, round((min + max) / 2), round(min + 1), round(max / 1024));
  const outside = fc.constantFrom(min - 1, max + 1, -1, 0.5, 1e12, 1e300, 1e308, 2 ** 53);
  if (leaf.kind !== 'size') return fc.oneof({ weight: 4, arbitrary: inside }, { weight: 1, arbitrary: outside });
  return fc.oneof(
    fc.constantFrom('4KiB', '64KiB', '2MiB', '1GiB', '16GiB', '1TiB', '4TiB', 2 ** 50, 4096, 1 << 20),
    fc.constantFrom('16GB', '64 MiB', '1.5KiB', 'x', -1, 0.5),
  );
}

const mutation = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .constantFrom(...LEAVES)
      .chain((leaf) => boundaryValues(leaf).map((v) => ({ path: leaf.path, value: v }))),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      path: fc.constantFrom(...LEAVES.map((l) => l.path), ['hardware', 'link', 'impl'], ['strategy', 'impl']),
      value: fc.constantFrom(null, 'toString', [], {}, true, '__proto__', 'coherent'),
    }),
  },
);

/** Small workloads: each run ends in milliseconds unless the hardware is slow. */
const workload = fc.oneof(
  fc.record({
    impl: fc.constant('stream'),
    arrayBytes: fc.constantFrom('64KiB', '256KiB'),
    iterations: fc.constant(1),
  }),
  fc.record({
    impl: fc.constant('gather'),
    tableBytes: fc.constantFrom('1MiB'),
    accesses: fc.integer({ min: 1, max: 500 }),
  }),
  fc.record({ impl: fc.constant('pointer-chase'), nodes: fc.integer({ min: 1, max: 512 }), steps: fc.constant(256) }),
  fc.record({ impl: fc.constant('ping-pong'), bufferBytes: fc.constant('64KiB'), rounds: fc.constant(1) }),
  fc.record({ impl: fc.constant('gemm'), n: fc.constantFrom(16, 32), tileElements: fc.constant(16) }),
  fc.record({
    impl: fc.constant('sparse-residency'),
    poolBytes: fc.constant('1MiB'),
    residentTiles: fc.integer({ min: 1, max: 16 }),
    tilesPerFrame: fc.integer({ min: 0, max: 8 }),
    frames: fc.integer({ min: 1, max: 3 }),
  }),
  fc.constant({
    impl: 'scripted',
    ops: [
      { op: 'mmap', name: 'a', sizeBytes: '64KiB' },
      { op: 'dev.compute', region: 'a', write: true },
      { op: 'cpu.touch', region: 'a' },
      { op: 'snapshot', region: 'a' },
    ],
  }),
);

const documentArb = fc
  .record({
    preset: fc.constantFrom(undefined, ...Object.keys(presets)),
    strategy: fc.constantFrom('explicit-copy', 'hmm-mirror', 'hmm-migrate', 'gmem', 'coherent'),
    workload,
    mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
  })
  .map(({ preset, strategy, workload, mutations }) => {
    const doc: Record<string, unknown> = {
      name: 'fuzz',
      hardware: { ...(preset ? { preset } : {}), device: { computeUnits: 4, contextsPerUnit: 2 } },
      strategy: { impl: strategy },
      workload,
    };
    for (const m of mutations) set(doc, m.path, m.value);
    return doc;
  });

function set(doc: Record<string, unknown>, path: string[], value: unknown): void {
  let node = doc;
  for (const key of path.slice(0, -1)) {
    if (node[key] === null || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

const CLEAN_FAILURES = new Set(['WorkloadError', 'HorizonError']);

describe('fuzz: any document validates or not, and what validates runs or fails cleanly', () => {
  it('holds over generated documents at their bounds', () => {
    let ran = 0;
    fc.assert(
      fc.property(documentArb, (doc) => {
        const r = validateExperiment(doc, presets);
        if (!r.ok) {
          if (process.env.FUZZ_DEBUG) console.log(JSON.stringify(r.issues).slice(0, 300));
          for (const issue of r.issues) expect(issue.message.length).toBeLessThan(1000);
          return;
        }
        ran++;
        let result;
        try {
          result = simulate(r.experiment);
        } catch (e) {
          if (CLEAN_FAILURES.has((e as Error).name)) return;
          throw e;
        }
        // Bounded memory: no generated run may grow the process past 2 GiB.
        expect(process.memoryUsage().rss).toBeLessThan(2 * 2 ** 30);
        for (const [name, m] of Object.entries(result.metrics)) {
          if (!(Number.isFinite(m.value) && m.value >= 0)) throw new Error(`metric ${name} is ${m.value}`);
        }
      }),
      { seed: Number(process.env.FUZZ_SEED ?? 20261201), numRuns: Number(process.env.FUZZ_RUNS ?? 500) },
    );
    if (process.env.FUZZ_DEBUG) console.log('ran', ran);
    expect(ran).toBeGreaterThan(50); // the property ran real simulations, not only rejections
  });
});

describe('cases the fuzz found', () => {
  // A context files its fault after its translation latency; a batch that started
  // earlier took the entry anyway and serviced the fault before it happened: a negative
  // fault latency, and the context resumed at a time before it stalled.
  it.each([
    { mmu: { walkLatencyCycles: 1_000_000 } },
    { mmu: { l1Tlb: { hitLatencyCycles: 1_000_000 } } },
    { frequencyMHz: 0.5 },
  ])('a batch never services a fault filed after it started (%j)', (device) => {
    const r = validateExperiment(
      {
        name: 'slow translation',
        hardware: { device: { computeUnits: 4, contextsPerUnit: 2, ...device } },
        strategy: { impl: 'hmm-mirror' },
        workload: { impl: 'gather', tableBytes: '1MiB', accesses: 200 },
      },
      presets,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const { metrics } = simulate(r.experiment);
    expect(metrics['device.page_faults'].value).toBeGreaterThan(0);
    expect(metrics['device.fault_latency_mean_ns'].value).toBeGreaterThan(0);
  });
});
