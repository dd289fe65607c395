/** Shared by the store's tests (no vitest import, so it also compiles with the product). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '../../../sim/result/types.js';
import type { RunMeta } from './store.js';

export function tempDir(): { dir: string; file: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'hetmem-store-'));
  return { dir, file: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function experiment(name = 'gpu-stream', extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ name, seed: 7, hardware: { link: { lanes: 16, gen: 4 } }, ...extra });
}

export function meta(overrides: Partial<RunMeta> = {}): RunMeta {
  return { name: 'run', seed: 7, modelVersion: '0.1.0', strategy: 'hmm-mirror', workload: 'stream', ...overrides };
}

/** A result exercising every part of RunResult, including values JSON cannot hold. */
export function sampleResult(tag = 'a'): RunResult {
  return {
    modelVersion: '0.1.0',
    experimentName: `gpu-stream-${tag}`,
    strategy: 'hmm-mirror',
    workload: 'stream',
    seed: 7,
    metrics: {
      'link.h2d_bytes': { value: 1 << 30, unit: 'B' },
      'fault.count': { value: 12345, unit: '' },
      'fault.mean_ns': { value: 1234.5678901234567, unit: 'ns' },
      'a.before_b': { value: 0.1 + 0.2, unit: 'ratio' },
      'nan.metric': { value: NaN, unit: 'ns' },
      'inf.metric': { value: Infinity, unit: 'ns' },
    },
    series: [
      { name: 'link.h2d_GBps', unit: 'GB/s', intervalNs: 1000, values: [0, 1.5, -0, NaN, Infinity, 1e-300, 3] },
      { name: 'device.mem_used', unit: 'B', intervalNs: 250.5, values: [] },
    ],
    histograms: [
      {
        name: 'fault.service_ns',
        unit: 'ns',
        bounds: [100, 200, 400],
        counts: [1, 2, 3, 4],
        count: 10,
        sum: 2500,
        min: 50,
        max: 900,
      },
      { name: 'empty', unit: 'B', bounds: [], counts: [0], count: 0, sum: 0, min: Infinity, max: -Infinity },
    ],
    attribution: [
      {
        agent: 'gpu0',
        contexts: 64,
        totalNs: 1000,
        ns: { compute: 500, tlb_miss: 100, fault_service: 200, migration: 50, link_wait: 100, dram_wait: 40, idle: 10 },
      },
      {
        agent: 'cpu0',
        contexts: 1,
        totalNs: 1000,
        ns: { idle: 900, compute: 100, tlb_miss: 0, fault_service: 0, migration: 0, link_wait: 0, dram_wait: 0 },
      },
    ],
    ops: [
      { index: 0, op: 'write', startNs: 0, durationNs: 10, faults: 1, h2dBytes: 0, d2hBytes: 4096 },
      {
        index: 1,
        op: 'read',
        startNs: 10,
        durationNs: 5,
        faults: 0,
        h2dBytes: 0,
        d2hBytes: 0,
        error: 'EPERM: "quoted"',
      },
    ],
    snapshots: [{ opIndex: 1, region: 'buf', pages: ['read', 'device-private', 'none'] }],
    timeline: {
      maxIntervals: 50000,
      tracks: [
        {
          component: 'gpu0.link.h2d',
          agent: 'gpu0',
          kind: 'link',
          startNs: [0, 12.345, 1e9 + 0.001],
          endNs: [1.5, 20.125, 1e9 + 7],
          busyNs: [1.5, 7, 6.999],
          bytes: [48, 250.99, 224],
          closedGaps: 2,
          closedGapNs: 0.5,
        },
        {
          component: 'gpu0.fault-handler',
          agent: 'gpu0',
          kind: 'fault-handler',
          startNs: [3],
          endNs: [4000.25],
          busyNs: [3997.25],
          count: [17],
          countUnit: 'faults',
          closedGaps: 0,
          closedGapNs: 0,
        },
      ],
    },
  };
}
