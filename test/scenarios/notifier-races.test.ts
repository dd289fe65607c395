/**
 * Notifier races made reachable: CPU and device work in the same phase, so the CPU's
 * page-table changes (copy-on-write of the zero page) invalidate the mirror while device
 * faults are in flight. The driver must then retry: hmm_range_fault's loop when its own
 * resolution changed the range (mm.hmm_range_fault_retries), and the batch when another
 * change landed between resolving and installing (mm.fault_batch_retries). Throughout,
 * the device never touches a page through a translation older than the page's last
 * replacement: every device access is checked against a shadow of PTE writes and page
 * replacements kept by the test.
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, Simulation, type RunResult } from '../../src/sim/index.js';

const KiB = 1024;

/** Runs to the end, checking every device access for staleness; returns the result. */
function runChecked(doc: Record<string, unknown>): RunResult {
  const sim = new Simulation(parseExperiment(doc));
  const m = sim.machine;
  let clock = 0;
  const replaced = new Map<number, number>();
  const written = m.devices.map(() => new Map<number, number>());
  const stale: string[] = [];
  m.hooks.cpuPageReplaced = (page) => replaced.set(page, ++clock);
  m.hooks.devicePtesWritten = (device, first, count) => {
    const stamp = ++clock;
    for (let p = first; p < first + count; p++) written[device].set(p, stamp);
  };
  const observed = m.hooks.deviceAccess;
  m.hooks.deviceAccess = (t, latency, device, page, write) => {
    observed?.(t, latency, device, page, write);
    if ((written[device].get(page) ?? 0) < (replaced.get(page) ?? 0) && stale.length < 5)
      stale.push(`device ${device} ${write ? 'wrote' : 'read'} page ${page} through a translation of a replaced page`);
  };
  while (sim.nextPhase < sim.plan.phases.length) sim.runPhase();
  expect(stale).toEqual([]);
  return sim.finish();
}

const metric = (r: RunResult, name: string) => r.metrics[name].value;

for (const pageSize of ['4KiB', '64KiB', '2MiB']) {
  describe(`notifier races with ${pageSize} device pages`, () => {
    it('double-buffered ping-pong: retries happen, and no device access is stale', () => {
      const r = runChecked({
        name: 'overlapping ping-pong',
        hardware: { device: { computeUnits: 8, contextsPerUnit: 4, mmu: { pageSizeBytes: pageSize } } },
        strategy: { impl: 'hmm-mirror' },
        workload: { impl: 'ping-pong', bufferBytes: '8MiB', rounds: 4, overlap: true, cpuThreads: 4 },
      });
      expect(metric(r, 'mm.fault_batch_retries')).toBeGreaterThan(0);
      expect(metric(r, 'mm.hmm_range_fault_retries')).toBeGreaterThan(0);
    });

    it('a CPU writer beside a device reader of one mapping (scripted, withPrevious)', () => {
      const r = runChecked({
        name: 'writer beside reader',
        hardware: { device: { computeUnits: 4, contextsPerUnit: 2, mmu: { pageSizeBytes: pageSize } } },
        strategy: { impl: 'hmm-mirror' },
        workload: {
          impl: 'scripted',
          ops: [
            { op: 'mmap', name: 'buf', sizeBytes: 4096 * KiB },
            { op: 'dev.read', region: 'buf', sizeBytes: 2048 * KiB },
            { op: 'dev.read', region: 'buf', offsetBytes: 2048 * KiB },
            { op: 'cpu.write', region: 'buf', sizeBytes: 2048 * KiB, withPrevious: true },
            { op: 'dev.write', region: 'buf' },
          ],
        },
      });
      expect(r.ops.filter((o) => o.unexpected)).toEqual([]);
      expect(metric(r, 'mm.fault_batch_retries')).toBeGreaterThan(0);
      expect(metric(r, 'mm.hmm_range_fault_retries')).toBeGreaterThan(0);
    });
  });
}
