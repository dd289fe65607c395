/**
 * gmem advice per device, as cudaMemAdvise gives it (one device per call), on two
 * gpu-pcie4-hbm2 GPUs: accessed-by for some devices only, and a preferred location on one
 * device, with the NVIDIA UVM driver's residency choice (uvm_va_block.c,
 * block_select_processor_residency): a fault by the preferred location migrates there; an
 * accessed-by device maps the page where it is; another device that can reach the
 * preferred location's memory moves the page there and maps it peer to peer; a device
 * without a route gets the page as without advice. Exact outcomes of scripted scenarios.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseExperiment, type RunResult } from '../../src/sim/index.js';
import { MAX_DEVICES } from '../../src/sim/config/hardware.js';
import { LAST_DEVICE } from '../../src/sim/workload/advice.js';
import { presets } from '../sim/presets.js';
import { duration, metric, runTwoGpus, type Topology } from './two-gpus.js';

const PAGES = 4096;
const MiB = 2 ** 20;

function run(
  topology: Topology,
  strategy: Record<string, unknown>,
  ops: Record<string, unknown>[],
  hardware?: Record<string, unknown>,
): RunResult {
  return runTwoGpus({
    name: 'gmem advice per device',
    topology,
    strategy: { impl: 'gmem', ...strategy },
    ops,
    hardware,
  });
}

/** How many pages of each state the snapshot taken by op `index` saw. */
function states(r: RunResult, index: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of r.snapshots.find((x) => x.opIndex === index)!.pages) out[s] = (out[s] ?? 0) + 1;
  return out;
}

describe('gmem: accessed-by advice for some devices only', () => {
  /** The buffer in system memory; GPU 1, then GPU 0, then GPU 1 again read it. */
  const READS = (accessedBy: unknown) => [
    { op: 'cpu.write', region: 'buf' },
    { op: 'advise', region: 'buf', accessedBy },
    { op: 'dev.read', region: 'buf', device: 1 },
    { op: 'snapshot', region: 'buf', device: 1 },
    { op: 'dev.read', region: 'buf', device: 0 },
    { op: 'snapshot', region: 'buf', device: 0 },
    { op: 'dev.read', region: 'buf', device: 1 },
    { op: 'snapshot', region: 'buf', device: 1 },
  ];

  it('accessed-by [1]: GPU 1 maps the pages where they are, GPU 0 migrates them', () => {
    const r = run('switch', {}, READS([1]));
    // GPU 1 reads system memory over its link: nothing moved (the CPU's THP is still whole).
    expect(states(r, 4)).toEqual({ 'write-pmd': PAGES });
    expect(metric(r, 'gpu1.device.remote_bytes')).toBe(16 * MiB);
    expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(0);
    // GPU 0 has no accessed-by advice: its faults migrate the buffer into its memory.
    expect(states(r, 6)).toEqual({ 'device-private': PAGES });
    expect(metric(r, 'gpu0.mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(r, 'gpu0.device.remote_bytes')).toBe(0);
    // GPU 0's faults mapped GPU 1 where they put the pages: in GPU 0's memory, peer to peer.
    expect(states(r, 8)).toEqual({ 'device-private-remote': PAGES });
    expect(metric(r, 'gpu1.p2p.mapped_pages')).toBe(PAGES);
    expect(metric(r, 'gpu1.p2p.bytes')).toBe(16 * MiB);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(0);
  });

  it('accessed-by with preferred location "device": each device migrates, as a fault by the preferred location does', () => {
    // The advice comes before the CPU writes: no page is resident yet, so it maps none
    // (after, GPU 1 would map them over its link at once and never fault).
    const [cpuWrite, advise, ...rest] = READS(true);
    const r = run('switch', { advice: [{ region: 'buf', preferredLocation: 'device' }] }, [advise, cpuWrite, ...rest]);
    // GPU 1 is its own preferred location: its faults migrate the buffer in, advice notwithstanding.
    expect(states(r, 4)).toEqual({ 'device-private': PAGES });
    expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(r, 'gpu1.device.remote_bytes')).toBe(0);
  });

  it('accessed-by true (every device): GPU 0 maps the pages over its link too', () => {
    const r = run('switch', {}, READS(true));
    expect(states(r, 6)).toEqual({ 'write-pmd': PAGES });
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(0);
    expect(metric(r, 'gpu0.device.remote_bytes')).toBeGreaterThanOrEqual(16 * MiB);
  });

  it('accessed-by [0]: the roles swap, and the advice list in the strategy works as the advise op', () => {
    const [cpuWrite, , ...rest] = READS([0]);
    const r = run('switch', { advice: [{ region: 'buf', accessedBy: [0] }] }, [
      cpuWrite,
      { op: 'snapshot', region: 'buf' },
      ...rest,
    ]);
    // GPU 1 migrates the buffer; GPU 0 maps it where it is, in GPU 1's memory.
    expect(states(r, 4)).toEqual({ 'device-private': PAGES });
    expect(states(r, 6)).toEqual({ 'device-private-remote': PAGES });
    expect(metric(r, 'gpu0.mm.pages_migrated_to_device')).toBe(0);
    expect(metric(r, 'gpu0.p2p.mapped_pages')).toBe(PAGES);
  });

  it('accessed-by false after a list takes the advice back', () => {
    // Before the CPU writes: the advice maps nothing (no page is resident yet).
    const r = run('switch', {}, [
      { op: 'advise', region: 'buf', accessedBy: [0, 1] },
      { op: 'advise', region: 'buf', accessedBy: false },
      { op: 'cpu.write', region: 'buf' },
      { op: 'dev.read', region: 'buf', device: 1 },
      { op: 'snapshot', region: 'buf', device: 1 },
    ]);
    expect(states(r, 5)).toEqual({ 'device-private': PAGES });
  });
});

describe('gmem: preferred location on one device', () => {
  /** The buffer in system memory; GPU 1 writes it, then GPU 0 reads it and GPU 1 gathers from it. */
  const WRITE_BY_GPU1 = (preferredLocation: unknown) => [
    { op: 'cpu.write', region: 'buf' },
    { op: 'advise', region: 'buf', preferredLocation },
    { op: 'dev.write', region: 'buf', device: 1 },
    { op: 'snapshot', region: 'buf', device: 0 },
    { op: 'dev.read', region: 'buf', device: 0 },
    { op: 'dev.compute', region: 'buf', device: 1, generator: 'gather', accesses: 50_000 },
  ];
  const GPU1_WRITE = 3;
  const GPU0_READ = 5;
  const GATHER = 6;

  it("GPU 1's faults move the pages into GPU 0's memory and map them there peer to peer, across a switch", () => {
    const r = run('switch', {}, WRITE_BY_GPU1({ device: 0 }));
    expect(states(r, 4)).toEqual({ 'device-private': PAGES });
    expect(metric(r, 'gpu0.mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(0);
    expect(metric(r, 'gpu1.p2p.mapped_pages')).toBe(PAGES);
    // GPU 1 wrote across the switch, and gathers there too; nothing went back to system memory.
    expect(metric(r, 'gpu1.p2p.bytes')).toBeGreaterThan(16 * MiB);
    expect(metric(r, 'gpu1.device.local_bytes')).toBe(0);
    expect(metric(r, 'mm.pages_migrated_to_host')).toBe(0);
    // GPU 0, the preferred location, reads its own memory: it only maps it (no migration, nothing over the link).
    expect(metric(r, 'mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(r, 'gpu0.device.remote_bytes')).toBe(0);
    expect(metric(r, 'gpu0.device.local_bytes')).toBe(16 * MiB);
  });

  it('pages already in GPU 0 memory stay there: GPU 1 maps them peer to peer instead of taking them', () => {
    const ops = [
      { op: 'dev.write', region: 'buf', device: 0 },
      { op: 'dev.read', region: 'buf', device: 1 },
      { op: 'snapshot', region: 'buf', device: 1 },
    ];
    const preferred = run('switch', { advice: [{ region: 'buf', preferredLocation: { device: 0 } }] }, ops);
    const none = run('switch', {}, ops);
    expect(states(preferred, 3)).toEqual({ 'device-private-remote': PAGES });
    expect(metric(preferred, 'gpu1.p2p.mapped_pages')).toBe(PAGES);
    expect(metric(preferred, 'gpu1.mm.pages_migrated_to_device')).toBe(0);
    // Without advice GPU 1 takes the pages, device to device.
    expect(states(none, 3)).toEqual({ 'device-private': PAGES });
    expect(metric(none, 'gpu1.mm.pages_migrated_to_device')).toBe(PAGES);
  });

  it('an accessed-by device maps the page where it is, and the preferred location itself migrates it', () => {
    // GPU 1 is accessed-by: it reads system memory over its link (the driver checks accessed-by
    // before the preferred location); GPU 0, the preferred location, migrates even though
    // it is accessed-by as well (the driver checks the preferred location first).
    const r = run('switch', { advice: [{ region: 'buf', preferredLocation: { device: 0 }, accessedBy: [0, 1] }] }, [
      { op: 'cpu.write', region: 'buf' },
      { op: 'dev.read', region: 'buf', device: 1 },
      { op: 'snapshot', region: 'buf', device: 1 },
      { op: 'dev.read', region: 'buf', device: 0 },
      { op: 'snapshot', region: 'buf', device: 0 },
    ]);
    expect(states(r, 3)).toEqual({ 'write-pmd': PAGES });
    expect(metric(r, 'gpu1.mm.pages_migrated_to_device')).toBe(0);
    expect(states(r, 5)).toEqual({ 'device-private': PAGES });
  });

  it('without a peer route GPU 1 gets the pages as without advice (the driver falls back to the faulting device)', () => {
    const preferred = run('no-route', {}, WRITE_BY_GPU1({ device: 0 }));
    const none = run('no-route', {}, WRITE_BY_GPU1('none'));
    // GPU 1 migrated the pages into its own memory.
    expect(states(preferred, 4)).toEqual({ 'device-private-remote': PAGES });
    expect(metric(preferred, 'gpu1.mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(preferred, 'p2p.mapped_pages')).toBe(0);
    // Nothing is oversubscribed, so the advice changes nothing at all.
    expect(preferred.metrics).toEqual(none.metrics);
    // peerToPeer false is no route either.
    const off = run('switch', { peerToPeer: false }, WRITE_BY_GPU1({ device: 0 }));
    expect(metric(off, 'gpu1.mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(off, 'p2p.mapped_pages')).toBe(0);
  });

  it('the buffer moves once, where without advice it goes back and forth between the GPUs', () => {
    const preferred = run('switch', {}, WRITE_BY_GPU1({ device: 0 }));
    const none = run('switch', {}, WRITE_BY_GPU1('none'));
    // GPU 1 writes into GPU 0's memory across the switch about as fast as into its own.
    expect(duration(preferred, GPU1_WRITE)).toBeLessThan(duration(none, GPU1_WRITE) * 1.3);
    // Without advice GPU 0's read takes the buffer from GPU 1 and GPU 1's gather takes it
    // back, device to device, until the blocks are found thrashing; with it, GPU 0 reads its
    // own memory and GPU 1 gathers peer to peer.
    expect(metric(preferred, 'mm.pages_migrated_to_device')).toBe(PAGES);
    expect(metric(none, 'mm.pages_migrated_to_device')).toBeGreaterThanOrEqual(2 * PAGES);
    expect(metric(none, 'mm.thrashing_events')).toBeGreaterThan(0);
    expect(metric(preferred, 'mm.thrashing_events')).toBe(0);
    expect(duration(preferred, GPU0_READ)).toBeLessThan(duration(none, GPU0_READ) / 5);
    expect(duration(preferred, GATHER)).toBeLessThan(duration(none, GATHER) / 5);
  });

  it("ranks the region's chunks last for eviction on the preferred device only", () => {
    // GPU 0 holds two 2 MiB chunks: a, then b, then c needs one evicted. LRU picks a,
    // unless a's preferred location is GPU 0 (or every device, "device"); the evicted
    // pages are back in system memory.
    const ops = [
      { op: 'munmap', region: 'buf' },
      { op: 'mmap', name: 'a', sizeBytes: '2MiB' },
      { op: 'mmap', name: 'b', sizeBytes: '2MiB' },
      { op: 'mmap', name: 'c', sizeBytes: '2MiB' },
      { op: 'migrate', region: 'a', device: 0 },
      { op: 'migrate', region: 'b', device: 0 },
      { op: 'migrate', region: 'c', device: 0 },
      { op: 'snapshot', region: 'a', device: 0 },
      { op: 'snapshot', region: 'b', device: 0 },
    ];
    const small = { devices: [{ dram: { capacityBytes: '4MiB' } }, {}] };
    const snaps = (preferredLocation: unknown) => {
      const r = run('switch', { advice: [{ region: 'a', preferredLocation }] }, ops, small);
      expect(metric(r, 'gpu0.mm.evictions')).toBe(1);
      return [Object.keys(states(r, 8)), Object.keys(states(r, 9))];
    };
    const kept = [['device-private'], ['write']];
    const evicted = [['write'], ['device-private']];
    expect(snaps({ device: 0 })).toEqual(kept);
    expect(snaps('device')).toEqual(kept);
    expect(snaps({ device: 1 })).toEqual(evicted);
    expect(snaps('none')).toEqual(evicted);
  });
});

describe('gmem advice: devices by index, checked', () => {
  const experiment = (advice: Record<string, unknown>, op: Record<string, unknown> = {}) => ({
    name: 'x',
    hardware: { preset: 'gpu-pcie4-hbm2', devices: [{}, {}] },
    strategy: { impl: 'gmem', advice: [{ region: 'buf', ...advice }] },
    workload: {
      impl: 'scripted',
      ops: [
        { op: 'mmap', name: 'buf', sizeBytes: '2MiB' },
        { op: 'advise', region: 'buf', ...op },
      ],
    },
  });
  const problems = (doc: unknown) => {
    try {
      parseExperiment(doc, presets);
    } catch (e) {
      if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
      throw e;
    }
    return [];
  };

  it('accepts every form', () => {
    for (const preferredLocation of ['none', 'device', 'host', { device: 0 }, { device: 1 }]) {
      for (const accessedBy of [true, false, [], [1], [0, 1]]) {
        expect(problems(experiment({ preferredLocation, accessedBy }, { preferredLocation, accessedBy }))).toEqual([]);
      }
    }
  });

  it('rejects a device the hardware does not have, naming the field and the devices there are', () => {
    const have = 'hardware.devices has 2 (0 is "gpu0", 1 is "gpu1")';
    expect(problems(experiment({ preferredLocation: { device: 2 } }))).toEqual([
      `strategy.advice[0].preferredLocation.device: there is no device 2; ${have}`,
    ]);
    expect(problems(experiment({}, { accessedBy: [1, 3] }))).toEqual([
      `workload.ops[1].accessedBy[1]: there is no device 3; ${have}`,
    ]);
    expect(problems(experiment({ preferredLocation: { device: 15 } }))).toEqual([
      'strategy.advice[0].preferredLocation.device: 15 is out of range; use an integer from 0 to 14',
    ]);
  });

  it('accepts device indices up to the hardware limit (advice.ts cannot import config/hardware.ts)', () => {
    expect(LAST_DEVICE).toBe(MAX_DEVICES - 1);
  });

  it('rejects values of the wrong type, saying what is valid', () => {
    expect(problems(experiment({ preferredLocation: 'gpu1' }))).toEqual([
      'strategy.advice[0].preferredLocation: "gpu1" is not a preferred location; use "none", "device", "host" or a device by index such as { "device": 1 }',
    ]);
    expect(problems(experiment({}, { preferredLocation: { device: '1' } }))).toEqual([
      'workload.ops[1].preferredLocation: device: expected an integer from 0 to 14, got "1"',
    ]);
    expect(problems(experiment({ accessedBy: 'gpu1' }))).toEqual([
      'strategy.advice[0].accessedBy: "gpu1" is not an accessed-by setting; use true (every device), false, or a list of device indices such as [1]',
    ]);
    expect(problems(experiment({ accessedBy: [0, 'gpu1'] }))).toEqual([
      'strategy.advice[0].accessedBy: item [1]: expected an integer from 0 to 14, got "gpu1"',
    ]);
    expect(problems(experiment({ accessedBy: [1, 1] }))).toEqual([
      'strategy.advice[0].accessedBy: device 1 is listed twice; list each device once',
    ]);
  });
});
