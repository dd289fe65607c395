/**
 * explicit-copy: every region has a buffer object in device memory, mapped on the device
 * when the region is mapped, so the device never faults. Data moves only by explicit
 * copies on the copy engines: inputs before a kernel, results before the CPU reads them.
 * With `skipCleanCopies`, a copy is skipped when the destination already holds the
 * latest data (what a careful programmer does); without it, every input is copied
 * before and every output after each kernel.
 */
import type { z } from 'zod';
import { formatBytes } from '../../config/units.js';
import type { Ps } from '../../engine/time.js';
import { H2D } from '../../hw/link/types.js';
import { copyRegion, pinHostPages } from '../../machine/copy.js';
import { unmapDevicePages } from '../../machine/invalidate.js';
import type { Machine } from '../../machine/machine.js';
import type { Phase } from '../../workload/types.js';
import type { Region } from '../address-space.js';
import { DEV_LOCAL, DEV_READ, DEV_WRITE, PAGE_BYTES, PROT_MAPPED, PROT_READ, PROT_WRITE } from '../page-state.js';
import type { explicitCopySchema } from './schema.js';
import type { Strategy } from './types.js';

const BO_ALIGN = 2 * 1024 * 1024;
const PTE_BYTES = 8;

export function createExplicitCopy(config: z.output<typeof explicitCopySchema>): Strategy {
  // Which side holds the latest data of each region.
  const hostValid: boolean[] = [];
  const deviceValid: boolean[] = [];
  const boBytes: number[] = [];

  /** Copies a whole region to the device or back, unless its destination is already current. */
  function copy(m: Machine, region: Region, toDevice: boolean, t: Ps): Ps {
    const destinationValid = toDevice ? deviceValid : hostValid;
    if (config.skipCleanCopies && destinationValid[region.index]) return t;
    if (!hostRangeAllows(m, region, toDevice ? PROT_READ : PROT_WRITE)) {
      m.phaseError = toDevice
        ? `EFAULT: copy to the device from ${region.spec.name}, which has pages that are not mapped readable`
        : `EPERM: copy from the device into ${region.spec.name}, which has pages that are not mapped writable`;
      return t;
    }
    destinationValid[region.index] = true;
    return copyRegion(m, toDevice, region, 0, region.spec.sizeBytes, t);
  }

  return {
    name: 'explicit-copy',
    onMap(m, region, t) {
      const bytes = Math.ceil(region.spec.sizeBytes / BO_ALIGN) * BO_ALIGN;
      const capacity = m.config.hardware.device.dram.capacityBytes;
      if (m.deviceMemoryTop + bytes > capacity) {
        m.phaseError = `ENOMEM: no room for a ${formatBytes(bytes)} buffer object for ${region.spec.name}: ${formatBytes(m.deviceMemoryTop)} of the device's ${formatBytes(capacity)} (hardware.device.dram.capacityBytes) are allocated`;
        return t;
      }
      region.deviceBase = m.deviceMemoryTop;
      m.deviceMemoryTop += bytes;
      boBytes[region.index] = bytes;
      m.allocateDeviceMemory(t, bytes);
      hostValid[region.index] = true;
      deviceValid[region.index] = true; // both sides hold zeroes
      const pte = m.devPte.data;
      const first = region.basePage >> m.devPageShift;
      const count = Math.ceil(region.pages / (1 << m.devPageShift));
      pte.fill(DEV_READ | DEV_WRITE | DEV_LOCAL, first, first + count);
      // The driver writes the new PTEs into the device page table over the link, while the
      // host side of the buffer is allocated and pinned.
      const ptesWritten = m.link.write(t, H2D, count * PTE_BYTES);
      return Math.max(ptesWritten, pinHostPages(m, region, t));
    },
    onUnmap(m, region, firstPage, pages, t) {
      if (pages === region.pages) {
        m.freeDeviceMemory(t, boBytes[region.index] ?? 0);
        return unmapDevicePages(m, firstPage, pages, t);
      }
      // A partial munmap leaves the buffer object alone: the device keeps its copy.
      return t;
    },
    onProtect: (_m, _region, _first, _pages, _prot, t) => t,
    beforePhase(m, phase, t) {
      let tt = t;
      for (const s of phase.streams) {
        const regions = m.space.regions;
        if (s.agent === 'device') {
          for (const r of s.reads) tt = copy(m, regions[r], true, tt);
        } else {
          for (const r of new Set([...s.reads, ...s.writes])) tt = copy(m, regions[r], false, tt);
          for (const r of s.writes) deviceValid[r] = false;
        }
      }
      return tt;
    },
    afterPhase(m, phase: Phase & { kind: 'streams' }, t) {
      let tt = t;
      for (const s of phase.streams) {
        if (s.agent !== 'device') continue;
        for (const r of s.writes) {
          deviceValid[r] = true;
          hostValid[r] = false;
          if (!config.skipCleanCopies) tt = copy(m, m.space.regions[r], false, tt);
        }
      }
      return tt;
    },
    // Buffer objects are mapped whole: a device fault means the address has no buffer object.
    resolveDeviceFault: () => ({ error: 'EFAULT', pte: 0, costPs: 0 }),
    onCpuPteChange: (_m, _region, _page, t) => t,
  };
}

function hostRangeAllows(m: Machine, region: Region, bit: number): boolean {
  const prot = m.space.prot.data;
  const need = PROT_MAPPED | bit;
  const end = region.basePage + Math.ceil(region.spec.sizeBytes / PAGE_BYTES);
  for (let p = region.basePage; p < end; p++) if ((prot[p] & need) !== need) return false;
  return true;
}
