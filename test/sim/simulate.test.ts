/** End-to-end behaviour of the model: determinism, metric names, and the physics the strategies must show. */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate, type RunResult } from '../../src/sim/index.js';
import { presets } from './presets.js';

function run(doc: Record<string, unknown>, seed = 1): RunResult {
  return simulate(parseExperiment({ name: 'test', seed, ...doc }, presets));
}

const small = { hardware: { preset: 'gpu-pcie4-hbm2' } };
const stream = { impl: 'stream', arrayBytes: '4MiB', iterations: 2 };
const metric = (r: RunResult, name: string) => {
  expect(r.metrics, `metric ${name}`).toHaveProperty(name);
  return r.metrics[name].value;
};

describe('simulate', () => {
  it('reports every required metric', () => {
    const r = run({ ...small, strategy: { impl: 'hmm-mirror' }, workload: stream });
    for (const name of [
      'sim.time_ns',
      'sim.events',
      'cpu.accesses',
      'cpu.tlb_misses',
      'cpu.page_faults',
      'device.accesses',
      'device.tlb_misses',
      'device.page_faults',
      'device.fault_batches',
      'iommu.iotlb_misses',
      'link.h2d_bytes',
      'link.d2h_bytes',
      'mm.notifier_invalidations',
      'mm.tlb_shootdowns',
      'dram.device.row_hits',
      'dram.device.row_misses',
    ]) {
      expect(Number.isFinite(metric(r, name)), name).toBe(true);
    }
    expect(r.attribution.map((a) => a.agent)).toEqual(['cpu', 'gpu0']);
  });

  it('gives the same result bit for bit for the same experiment and seed', () => {
    const doc = {
      ...small,
      strategy: { impl: 'hmm-mirror' },
      workload: { impl: 'gather', tableBytes: '64MiB', accesses: 20000 },
    };
    expect(JSON.stringify(run(doc, 5))).toBe(JSON.stringify(run(doc, 5)));
    expect(JSON.stringify(run(doc, 5))).not.toBe(JSON.stringify(run(doc, 6)));
  });

  it('hmm-mirror: pages stay in system memory, every device byte crosses the link, first touches fault', () => {
    const r = run({
      ...small,
      strategy: { impl: 'hmm-mirror' },
      workload: { ...stream, initOnCpu: false, readBackOnCpu: false },
    });
    const deviceBytes = metric(r, 'device.bytes');
    // Triad reads b and c (2 x 4 MiB) and writes a (4 MiB), twice.
    expect(deviceBytes).toBe(2 * 3 * 4 * 2 ** 20);
    expect(metric(r, 'device.remote_bytes')).toBe(deviceBytes);
    // Data, plus the driver's device page-table updates going down: per batch, 64 B per
    // 2 MiB VA block it changes and 8 B per device PTE (each of the 192 device pages is
    // written at least once).
    const h2dData = 2 * 2 * 4 * 2 ** 20;
    const resolved = metric(r, 'device.page_faults') - metric(r, 'device.faults_coalesced');
    const pteBytes = metric(r, 'link.h2d_bytes') - h2dData;
    expect(pteBytes).toBeGreaterThanOrEqual(8 * 192);
    expect(pteBytes).toBeLessThanOrEqual(64 * metric(r, 'mm.va_blocks_serviced') + 8 * resolved);
    expect(metric(r, 'link.d2h_bytes')).toBe(2 * 4 * 2 ** 20);
    // 3 arrays of 4 MiB in 64 KiB device pages = 192 device pages; reads of b and c
    // map the zero page read-only, writes of a fault once; nothing faults twice but b, c stay read-only.
    expect(metric(r, 'device.page_faults')).toBeGreaterThanOrEqual(192);
    expect(metric(r, 'device.fault_batches')).toBeGreaterThan(0);
    expect(metric(r, 'copy.count')).toBe(0);
    expect(metric(r, 'dram.device.row_hits') + metric(r, 'dram.device.row_misses')).toBe(0);
  });

  it('explicit-copy: copies in and out, the kernel runs from device DRAM without faults', () => {
    const r = run({ ...small, strategy: { impl: 'explicit-copy' }, workload: stream });
    expect(metric(r, 'device.page_faults')).toBe(0);
    expect(metric(r, 'device.local_bytes')).toBe(metric(r, 'device.bytes'));
    // b and c copied in once (skipCleanCopies), a copied out once before the CPU reads it.
    expect(metric(r, 'copy.h2d_bytes')).toBe(2 * 4 * 2 ** 20);
    expect(metric(r, 'copy.d2h_bytes')).toBe(4 * 2 ** 20);
    expect(metric(r, 'dram.device.row_hits')).toBeGreaterThan(metric(r, 'dram.device.row_misses'));
  });

  it('copying every time moves more data than copying only what changed', () => {
    const careful = run({ ...small, strategy: { impl: 'explicit-copy', skipCleanCopies: true }, workload: stream });
    const naive = run({ ...small, strategy: { impl: 'explicit-copy', skipCleanCopies: false }, workload: stream });
    expect(metric(naive, 'copy.h2d_bytes')).toBe(2 * metric(careful, 'copy.h2d_bytes'));
    expect(metric(naive, 'sim.time_ns')).toBeGreaterThan(metric(careful, 'sim.time_ns'));
  });

  it('a wider, faster link makes a link-bound mirror run faster', () => {
    const doc = (generation: number, lanes: number) => ({
      hardware: { preset: 'gpu-pcie4-hbm2', link: { generation, lanes } },
      strategy: { impl: 'hmm-mirror' },
      workload: { ...stream, initOnCpu: false, readBackOnCpu: false },
    });
    // The second triad runs with every page mapped: it is bound by the link alone
    // (7.9 GB/s raw for gen3 x8 against 63 GB/s for gen5 x16).
    const slow = run(doc(3, 8)).ops[1].durationNs;
    const fast = run(doc(5, 16)).ops[1].durationNs;
    expect(slow / fast).toBeGreaterThan(6);
    expect(slow / fast).toBeLessThan(8.5);
  });

  it("attribution adds up to each agent's share of the run", () => {
    const r = run({ ...small, strategy: { impl: 'hmm-mirror' }, workload: stream });
    const total = metric(r, 'sim.time_ns');
    for (const a of r.attribution) {
      const sum = Object.values(a.ns).reduce((x, y) => x + y, 0);
      expect(sum).toBeCloseTo(a.totalNs, 3);
      expect(Math.abs(a.totalNs - total) / total).toBeLessThan(1e-9);
    }
    const gpu = r.attribution[1];
    expect(gpu.ns.link_wait).toBeGreaterThan(gpu.ns.compute);
  });

  it('series cover the run and carry the link traffic', () => {
    const r = run({ ...small, strategy: { impl: 'explicit-copy' }, workload: stream });
    const h2d = r.series.find((s) => s.name === 'link.h2d_bandwidth')!;
    const bytes = h2d.values.reduce((a, v) => a + v * h2d.intervalNs, 0);
    expect(bytes).toBeCloseTo(metric(r, 'copy.h2d_bytes'), 0);
    expect(h2d.values.length * h2d.intervalNs).toBeGreaterThanOrEqual(metric(r, 'sim.time_ns') - h2d.intervalNs);
    const mem = r.series.find((s) => s.name === 'device.memory_used')!;
    expect(Math.max(...mem.values)).toBe(3 * 4 * 2 ** 20);
  });

  it('fails a workload that does not fit, naming the capacity to raise', () => {
    const tooBigForDevice = {
      hardware: { preset: 'npu-64k-pages' },
      strategy: { impl: 'explicit-copy' },
      workload: { impl: 'gather', tableBytes: '20GiB', accesses: 10, initOnCpu: false },
    };
    expect(() => run(tooBigForDevice)).toThrow(
      /ENOMEM: no room for a 20 GiB buffer object for table on npu0: .* 16 GiB are in use \(hardware\.devices\[0\]\.dram\.capacityBytes\)/,
    );
    const tooBigForHost = {
      ...tooBigForDevice,
      strategy: { impl: 'hmm-mirror' },
      workload: { ...tooBigForDevice.workload, tableBytes: '80GiB' },
    };
    expect(() => run(tooBigForHost)).toThrow(
      /maps 80 GiB, more than the host's memory \(hardware\.cpu\.memory\.capacityBytes = 64 GiB\)/,
    );
  });
});

describe('fault service, VA block by VA block', () => {
  it('replays faults an earlier batch already serviced without resolving them again, and counts the blocks', () => {
    const r = simulate(
      parseExperiment(
        {
          name: 'batches',
          hardware: { preset: 'gpu-pcie4-hbm2', device: { faultBuffer: { batchSize: 64 } } },
          strategy: { impl: 'hmm-mirror' },
          workload: { impl: 'stream', arrayBytes: '32MiB', iterations: 1, initOnCpu: true, readBackOnCpu: false },
        },
        presets,
      ),
    );
    const m = (name: string) => r.metrics[name].value;
    // 864 contexts stream over 3 x 32 MiB: many fault on a device page another batch is mapping.
    expect(m('mm.faults_already_serviced')).toBeGreaterThan(0);
    const resolved = m('device.page_faults') - m('device.faults_coalesced') - m('mm.faults_already_serviced');
    // Every 64 KiB device page (1536 of them) resolved once, and no page twice.
    expect(resolved).toBe(1536);
    // A batch services each 2 MiB block it touches once: fewer blocks than resolutions.
    expect(m('mm.va_blocks_serviced')).toBeGreaterThanOrEqual(48);
    expect(m('mm.va_blocks_serviced')).toBeLessThan(resolved);
    expect(m('mm.fault_batch_service_mean_ns')).toBeGreaterThan(0);
  });
});

describe('results that explain', () => {
  it('attributes each phase over the contexts active in it, and measures device bandwidth over its active time', () => {
    const r = simulate(
      parseExperiment(
        {
          name: 'phases',
          hardware: { preset: 'gpu-pcie4-hbm2' },
          strategy: { impl: 'hmm-mirror' },
          workload: {
            impl: 'stream',
            arrayBytes: '8MiB',
            iterations: 2,
            initOnCpu: true,
            readBackOnCpu: true,
            cpuThreads: 4,
          },
        },
        presets,
      ),
    );
    const m = (name: string) => r.metrics[name].value;
    const phase = (label: string) => r.ops.find((o) => o.op.startsWith(label))!;
    // The CPU phase ran on 4 of 32 cores: its attribution is over those 4, and no device is in it.
    const init = phase('cpu writes');
    expect(init.attribution!.map((a) => [a.agent, a.contexts])).toEqual([['cpu', 4]]);
    expect(init.attribution![0].totalNs).toBeCloseTo(init.durationNs, 3);
    // The second triad: only the device, all of its 864 contexts busy; nothing there is a fault.
    const triad = phase('triad 2/2');
    expect(triad.attribution!.map((a) => a.agent)).toEqual(['gpu0']);
    expect(triad.attribution![0].ns.fault_service).toBe(0);
    // The device worked in the two triads only: its active bandwidth is over their time.
    const active = phase('triad 1/2').durationNs + triad.durationNs;
    expect(m('device.active_time_ns')).toBeCloseTo(active, 3);
    expect(m('device.bandwidth_active_GBps')).toBeCloseTo(m('device.bytes') / active, 6);
    expect(m('device.bandwidth_active_GBps')).toBeGreaterThan(m('device.bandwidth_GBps'));
  });
});
