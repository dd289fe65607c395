/**
 * A CPU touch of a special entry (device-private, device-exclusive, migration, pinned)
 * goes to the strategy's handler, which may bring the page back (the CPU access then
 * completes) or refuse it (SIGBUS). A device's own access to a page pinned for it
 * goes through.
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../config/validate.js';
import { ERR_SIGBUS } from '../engine/errno.js';
import { Machine } from '../machine/machine.js';
import { CpuPte } from '../machine/page-state.js';
import { buildWorkload } from '../workload/index.js';
import { MemoryManager } from './phase.js';
import { createHmmMirror } from './strategies/hmm-mirror.js';
import type { Strategy } from './strategies/types.js';

function machineWith(strategy: Strategy) {
  const exp = parseExperiment({
    name: 'special entries',
    hardware: { device: { computeUnits: 1, contextsPerUnit: 1, mmu: { pageSizeBytes: '4KiB' } } },
    strategy: { impl: 'hmm-mirror' },
    workload: { impl: 'scripted', ops: [{ op: 'mmap', name: 'buf', sizeBytes: 16384 }] },
  });
  const plan = buildWorkload(exp.workload, { seed: 1, cpuContexts: 16, deviceContexts: 1 });
  const m = new Machine(exp.hardware, plan.regions);
  const mm = new MemoryManager(m, strategy, exp.hardware.driver);
  const region = m.space.regions[0];
  m.space.map(region);
  return { m, mm, region, page: region.basePage };
}

describe('CPU faults on special entries', () => {
  it('go to the strategy, which can migrate the page back so the CPU access completes', () => {
    const calls: string[] = [];
    const strategy: Strategy = {
      ...createHmmMirror(),
      onSpecialCpuFault(d, _region, page, write, t) {
        calls.push(`${d.cpuPte(page)} ${write ? 'write' : 'read'}`);
        d.setCpuPte(page, CpuPte.Present); // the data came back to system memory
        return t + 1000;
      },
    };
    const { m, mm, region, page } = machineWith(strategy);
    for (const entry of [CpuPte.DevicePrivate, CpuPte.DeviceExclusive, CpuPte.Migration]) {
      mm.driver.setCpuPte(page, entry);
      const done = m.mm.cpuFault(region, page, true, 0);
      expect(done).toBeGreaterThan(0);
      expect(m.space.cpuPte.get(page)).toBe(CpuPte.Present);
    }
    expect(calls).toEqual([
      `${CpuPte.DevicePrivate} write`,
      `${CpuPte.DeviceExclusive} write`,
      `${CpuPte.Migration} write`,
    ]);
    expect(m.counters.cpuSpecialFaults).toBe(3);
  });

  it('end in the SIGBUS the strategy returns; a page pinned for the device stays usable by the device', () => {
    const { m, mm, region, page } = machineWith(createHmmMirror());
    mm.driver.setCpuPte(page, CpuPte.Pinned);
    expect(m.mm.cpuFault(region, page, false, 0)).toBe(ERR_SIGBUS);
    expect(mm.driver.faultInPage(region, page, false, 0)).toBe(0);
  });
});
