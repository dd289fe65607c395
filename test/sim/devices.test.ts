/**
 * Several devices: each with its own MMU, TLBs, fault buffer, DRAM and link, on root
 * ports of their own or under one PCIe switch. `hardware.device` stays shorthand for a
 * list of one, so every experiment written for one device runs unchanged.
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate, validateExperiment, type RunResult } from '../../src/sim/index.js';
import { presets } from './presets.js';

const stream = { impl: 'stream', arrayBytes: '16MiB', iterations: 1, initOnCpu: true, readBackOnCpu: false };
const small = { computeUnits: 8, contextsPerUnit: 4 };

function run(doc: Record<string, unknown>): RunResult {
  return simulate(parseExperiment({ name: 'devices', ...doc }, presets));
}

const metric = (r: RunResult, name: string) => {
  const m = r.metrics[name];
  if (m === undefined) throw new Error(`no metric ${name}`);
  return m.value;
};

describe('several devices', () => {
  it('"device" is shorthand for a list of one: the same run, bit for bit', () => {
    const one = run({ strategy: { impl: 'hmm-mirror' }, hardware: { device: small }, workload: stream });
    const list = run({ strategy: { impl: 'hmm-mirror' }, hardware: { devices: [small] }, workload: stream });
    expect(JSON.stringify(list)).toBe(JSON.stringify(one));
    expect(one.attribution.map((a) => a.agent)).toEqual(['cpu', 'device0']);
  });

  it('a list of devices starts each from the preset and names them after it', () => {
    const v = validateExperiment(
      {
        name: 'x',
        hardware: { preset: 'gpu-pcie4-hbm2', devices: [{}, { computeUnits: 54 }] },
        strategy: { impl: 'hmm-mirror' },
        workload: stream,
      },
      presets,
    );
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    const devices = v.experiment.hardware.devices;
    expect(devices.map((d) => [d.name, d.computeUnits, d.dram.capacityBytes])).toEqual([
      ['gpu0', 108, 40 * 2 ** 30],
      ['gpu1', 54, 40 * 2 ** 30],
    ]);
  });

  it('splits device work over the devices: each faults on its own share, and metrics add up', () => {
    const r = run({
      strategy: { impl: 'hmm-mirror' },
      hardware: {
        devices: [
          { ...small, name: 'gpu0' },
          { ...small, name: 'gpu1' },
        ],
      },
      workload: stream,
    });
    expect(r.attribution.map((a) => a.agent)).toEqual(['cpu', 'gpu0', 'gpu1']);
    for (const name of ['device.page_faults', 'device.bytes', 'link.h2d_bytes', 'device.translations']) {
      const a = metric(r, `gpu0.${name}`);
      const b = metric(r, `gpu1.${name}`);
      expect(a, name).toBeGreaterThan(0);
      expect(b, name).toBeGreaterThan(0);
      expect(metric(r, name), name).toBe(a + b);
    }
    // Two mirrors: each device keeps its own page table and faults on its pages alone.
    expect(metric(r, 'device.page_faults')).toBeGreaterThan(0);
  });

  it('devices under one PCIe switch share its upstream link, and are slower for it than on their own root ports', () => {
    const devices = [
      { ...small, name: 'gpu0' },
      { ...small, name: 'gpu1' },
    ];
    // Copies to both devices at once: link-bound, so the shared upstream link halves each one's share.
    const doc = { strategy: { impl: 'explicit-copy' }, workload: { ...stream, arrayBytes: '64MiB' } };
    const ownPorts = run({ ...doc, hardware: { devices } });
    const switched = run({
      ...doc,
      hardware: { devices, pcieSwitch: { upstreamLink: { impl: 'pcie', generation: 4, lanes: 16 } } },
    });
    expect(metric(switched, 'switch.upstream_h2d_bytes')).toBe(metric(switched, 'link.h2d_bytes'));
    // The kernel phase is the copies': twice the bytes through one x16 upstream link.
    const kernel = (r: RunResult) => r.ops.find((o) => o.op.startsWith('triad'))!.durationNs;
    expect(kernel(switched)).toBeGreaterThan(kernel(ownPorts) * 1.8);
    expect(ownPorts.metrics['switch.upstream_h2d_bytes']).toBeUndefined();
  });

  it('explicit-copy keeps a buffer object on each device and copies inputs to each', () => {
    const r = run({
      strategy: { impl: 'explicit-copy' },
      hardware: { devices: [small, small] },
      workload: stream,
    });
    expect(metric(r, 'device0.device.memory_peak_bytes')).toBe(3 * 16 * 2 ** 20);
    expect(metric(r, 'device1.device.memory_peak_bytes')).toBe(3 * 16 * 2 ** 20);
    expect(metric(r, 'device0.copy.h2d_bytes')).toBe(metric(r, 'device1.copy.h2d_bytes'));
  });

  it('rejects "device" beside "devices", duplicate names and names that are metric groups', () => {
    const issues = (hardware: Record<string, unknown>) => {
      const v = validateExperiment({ name: 'x', hardware, strategy: { impl: 'hmm-mirror' }, workload: stream });
      return v.ok ? [] : v.issues.map((i) => `${i.path}: ${i.message}`);
    };
    expect(issues({ device: {}, devices: [{}] })).toEqual(['hardware.devices: give "device" or "devices", not both']);
    expect(issues({ devices: [{ name: 'a' }, { name: 'a' }] })).toEqual([
      'hardware.devices[1].name: "a" is already the name of another device; give each device its own name, e.g. "gpu1"',
    ]);
    expect(issues({ devices: [{ name: 'link' }] })).toEqual([
      'hardware.devices[0].name: "link" names a metric group; use another name, e.g. "gpu0"',
    ]);
  });
});

describe('device memory is freed', () => {
  it('mmap, munmap and mmap again on a small device: the frames of the first buffer come back', () => {
    const r = run({
      strategy: { impl: 'explicit-copy' },
      hardware: { device: { ...small, dram: { capacityBytes: '64MiB' } } },
      workload: {
        impl: 'scripted',
        ops: [
          { op: 'mmap', name: 'a', sizeBytes: '48MiB' },
          { op: 'munmap', region: 'a' },
          { op: 'mmap', name: 'b', sizeBytes: '48MiB' },
          { op: 'mmap', name: 'c', sizeBytes: '48MiB', expect: 'ENOMEM' },
        ],
      },
    });
    expect(r.ops.filter((o) => o.unexpected).map((o) => `${o.op}: ${o.error}`)).toEqual([]);
    expect(metric(r, 'device.memory_peak_bytes')).toBe(48 * 2 ** 20);
  });
});
