/**
 * The HMM selftests' fixture (tools/testing/selftests/mm/hmm-tests.c, with lib/test_hmm.c's
 * dmirror device): one or two devices whose reads and writes mirror the CPU page table
 * and whose memory pages move only on a MIGRATE command. Each scenario runs once per
 * variant: the kind of device memory, as the kernel's fixture variants have it
 * (hmm_device_private: hmm-migrate with migrateOnFault off, as dmirror does;
 * hmm_device_coherent: the coherent strategy on a coherent link, new pages in system
 * memory as dmirror's READ and WRITE leave them), and the device page size (4 KiB like
 * dmirror, and 64 KiB).
 */
import { expect } from 'vitest';
import { parseExperiment, simulate, type Experiment, type RunResult } from '../../../src/sim/index.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
/** HMM_BUFFER_SIZE: 1024 pages of 4 KiB. */
export const BUFFER = 4 * MiB;
export const PAGES = BUFFER / (4 * KiB);

export interface Variant {
  /** Device memory kind, as the kernel's fixture variants name it. */
  memory: 'device-private' | 'device-coherent';
  pageSizeBytes: '4KiB' | '64KiB';
}

/** The variants every scenario runs with (describe.each). */
export const VARIANTS: Variant[] = [
  { memory: 'device-private', pageSizeBytes: '4KiB' },
  { memory: 'device-private', pageSizeBytes: '64KiB' },
  { memory: 'device-coherent', pageSizeBytes: '4KiB' },
  { memory: 'device-coherent', pageSizeBytes: '64KiB' },
];

/** hmm_is_coherent_type(): the kernel test's branch for device-coherent memory. */
export const coherent = (v: Variant): boolean => v.memory === 'device-coherent';

export interface Options {
  /** Devices of the hmm2 fixture: 2. */
  devices?: 1 | 2;
  /** Transparent huge pages (the tests that madvise(MADV_HUGEPAGE)); off otherwise, so pages stay 4 KiB. */
  thp?: boolean;
  /** PCIe AtomicOps on the devices' link (device-private variants; a coherent link has atomics). */
  atomicOps?: boolean;
  /** The hugetlb pool (hardware.cpu.memory.hugetlbPool); default: the model's (128 pages of 2 MiB, none of 1 GiB). */
  hugetlbPool?: { pages2MiB?: number; pages1GiB?: number };
}

/** The experiment a script runs as under the variant (for tests that step it phase by phase). */
export function selftestExperiment(
  variant: Variant,
  ops: Record<string, unknown>[],
  options: Options = {},
): Experiment {
  const device = { computeUnits: 4, contextsPerUnit: 2, mmu: { pageSizeBytes: variant.pageSizeBytes } };
  const devices = options.devices === 2 ? [device, { ...device, name: 'device1' }] : [device];
  const isCoherent = coherent(variant);
  return parseExperiment({
    name: 'hmm selftest',
    hardware: {
      cpu: {
        transparentHugePages: options.thp ?? false,
        ...(options.hugetlbPool ? { memory: { hugetlbPool: options.hugetlbPool } } : {}),
      },
      // Device-coherent memory needs a cache-coherent link (CXL.mem-style, the defaults).
      link: isCoherent ? { impl: 'coherent' } : { impl: 'pcie', atomicOps: options.atomicOps ?? false },
      devices,
    },
    strategy: isCoherent ? { impl: 'coherent', placement: 'host' } : { impl: 'hmm-migrate', migrateOnFault: false },
    workload: { impl: 'scripted', ops },
  });
}

/** Runs a script under the variant and checks that every op had the outcome the script expects. */
export function runSelftest(variant: Variant, ops: Record<string, unknown>[], options: Options = {}): RunResult {
  const r = simulate(selftestExperiment(variant, ops, options));
  expect(r.ops.filter((o) => o.unexpected)).toEqual([]);
  return r;
}

export const op = (r: RunResult, i: number) => r.ops.find((o) => o.index === i)!;
export const snapshot = (r: RunResult, i: number) => r.snapshots.find((s) => s.opIndex === i)!.pages;
export const metric = (r: RunResult, name: string) => r.metrics[name].value;
export const errno = (r: RunResult, i: number) => op(r, i).error?.split(':')[0];
export const all = <T>(n: number, v: T): T[] => new Array<T>(n).fill(v);
