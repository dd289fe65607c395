/**
 * explicit-copy: every region has a buffer object in each device's memory, mapped on the
 * device when the region is mapped, so the device never faults. Data moves only by
 * explicit copies on the copy engines: inputs before a kernel, results before the CPU
 * reads them. With `skipCleanCopies`, a copy is skipped when the destination already
 * holds the latest data (what a careful programmer does); without it, every input is
 * copied before and every output after each kernel.
 *
 * Several devices: each has its own buffer object of every region; inputs are copied to
 * every device whole, and each device copies back its own share of an output (the slice
 * its contexts wrote, as data-parallel work splits it). With `peerCopies`, an input crosses
 * from host memory to the first device only, and goes on to the others device to device.
 */
import type { z } from 'zod';
import { ERR_EFAULT, ERR_SIGBUS, OpError, type Outcome } from '../../engine/errno.js';
import type { Ps } from '../../engine/time.js';
import type { Region } from '../../machine/address-space.js';
import {
  DEV_LOCAL,
  DEV_READ,
  DEV_WRITE,
  PAGE_BYTES,
  PROT_MAPPED,
  PROT_READ,
  PROT_WRITE,
} from '../../machine/page-state.js';
import { formatBytes } from '../../schema/units.js';
import type { Phase } from '../../workload/types.js';
import type { DriverContext } from '../driver.js';
import type { explicitCopySchema } from './schema.js';
import type { Strategy } from './types.js';

export function createExplicitCopy(config: z.output<typeof explicitCopySchema>): Strategy {
  // Which side holds the latest data of each region.
  const hostValid: boolean[] = [];
  const deviceValid: boolean[] = [];

  /** Copies a region to every device or back, unless its destination is already current. */
  function copy(d: DriverContext, region: Region, toDevice: boolean, t: Ps): Outcome {
    const destinationValid = toDevice ? deviceValid : hostValid;
    if (config.skipCleanCopies && destinationValid[region.index]) return t;
    if (!hostRangeAllows(d, region, toDevice ? PROT_READ : PROT_WRITE)) {
      return toDevice
        ? new OpError(
            'EFAULT',
            `copy to the device from ${region.spec.name}, which has pages that are not mapped readable`,
          )
        : new OpError(
            'EPERM',
            `copy from the device into ${region.spec.name}, which has pages that are not mapped writable`,
          );
    }
    destinationValid[region.index] = true;
    const bytes = region.spec.sizeBytes;
    const n = d.devices.length;
    if (toDevice && config.peerCopies && n > 1) return copyInThroughFirst(d, region, bytes, t);
    let done = t;
    for (const dev of d.devices) {
      // Each device's copy engines and link work in parallel with the others'.
      const share = toDevice ? { offset: 0, bytes } : shareOf(bytes, dev.index, n);
      if (share.bytes > 0) done = Math.max(done, d.copy(dev.index, toDevice, region, share.offset, share.bytes, t));
    }
    return done;
  }

  /**
   * peerCopies: an input goes from host memory to the first device once, then device to
   * device in rounds, each device that holds it copying it to one that does not (a
   * broadcast tree: the holders double each round, and no device's memory serves two
   * copies at once). A device the first cannot reach gets a host copy instead, in parallel
   * with the first device's. One stream: the next input starts when this one is everywhere.
   */
  function copyInThroughFirst(d: DriverContext, region: Region, bytes: number, t: Ps): Ps {
    let done = d.copy(0, true, region, 0, bytes, t);
    const first = done;
    const pending: number[] = [];
    for (const dev of d.devices) {
      if (dev.index === 0) continue;
      if (d.canReachPeer(0, dev.index)) {
        pending.push(dev.index);
        continue;
      }
      d.countNoPeerRouteCopy(dev.index, bytes);
      done = Math.max(done, d.copy(dev.index, true, region, 0, bytes, t));
    }
    const holders = [0];
    let round = first;
    // Each round makes progress: the first device reaches every pending one.
    while (pending.length > 0) {
      let roundEnd = round;
      const got: number[] = [];
      for (const from of holders) {
        const k = pending.findIndex((to) => d.canReachPeer(from, to));
        if (k < 0) continue;
        const to = pending.splice(k, 1)[0];
        roundEnd = Math.max(roundEnd, d.copyToPeer(from, to, region, 0, bytes, round));
        got.push(to);
      }
      holders.push(...got);
      round = roundEnd;
    }
    return Math.max(done, round);
  }

  return {
    name: 'explicit-copy',
    translation: 'device-page-table',
    onMap(d, region, t) {
      const bytes = region.pages * PAGE_BYTES;
      for (const dev of d.devices) {
        if (d.freeBytes(dev.index) < bytes) {
          return new OpError(
            'ENOMEM',
            `no room for a ${formatBytes(bytes)} buffer object for ${region.spec.name} on ${dev.name}: ${formatBytes(dev.memoryUsed)} of its ${formatBytes(dev.capacityBytes)} are in use (hardware.devices[${dev.index}].dram.capacityBytes)`,
          );
        }
      }
      const bits = new Uint8Array(region.pages).fill(DEV_READ | DEV_WRITE | DEV_LOCAL);
      let done = t;
      for (const dev of d.devices) {
        for (let p = region.basePage; p < region.basePage + region.pages; p++) {
          d.residency.addDeviceCopy(dev.index, p, d.allocFrame(dev.index, t));
        }
        // The driver writes the new PTEs into the device page table over the link, while
        // the host side of the buffer is allocated and pinned.
        done = Math.max(done, d.writeDevicePtes(dev.index, region.basePage, bits, region.pages, t));
      }
      hostValid[region.index] = true;
      deviceValid[region.index] = true; // both sides hold zeroes
      return Math.max(done, d.pinHostPages(region, t));
    },
    onUnmap(d, region, firstPage, pages, t) {
      // The buffer objects go when the last of the region's pages is unmapped.
      if (pages < region.mappedPages) return t;
      const done = d.unmapFromDevices(firstPage, pages, t);
      for (const dev of d.devices) {
        for (let p = region.basePage; p < region.basePage + region.pages; p++) {
          const frame = d.residency.dropDeviceCopy(dev.index, p);
          if (frame >= 0) d.freeFrame(dev.index, frame, done);
        }
      }
      return done;
    },
    onProtect: (_d, _region, _first, _pages, _prot, t) => t,
    beforePhase(d, phase, t) {
      let tt: Outcome = t;
      for (const s of phase.streams) {
        const regions = d.regions;
        const toDevice = s.agent === 'device';
        const needed = toDevice ? s.reads : [...new Set([...s.reads, ...s.writes])];
        for (const r of needed) {
          tt = copy(d, regions[r], toDevice, tt);
          if (typeof tt !== 'number') return tt;
        }
        if (!toDevice) for (const r of s.writes) deviceValid[r] = false;
      }
      return tt;
    },
    afterPhase(d, phase: Phase & { kind: 'streams' }, t) {
      let tt: Outcome = t;
      for (const s of phase.streams) {
        if (s.agent !== 'device') continue;
        for (const r of s.writes) {
          deviceValid[r] = true;
          hostValid[r] = false;
          if (!config.skipCleanCopies) {
            tt = copy(d, d.regions[r], false, tt);
            if (typeof tt !== 'number') return tt;
          }
        }
      }
      return tt;
    },
    // Buffer objects are mapped whole: a device fault means the address has no buffer object.
    resolveDeviceFault: (_d, f) => {
      f.error = ERR_EFAULT;
    },
    onCpuPteChange: (_d, _region, _page, t) => t,
    onSpecialCpuFault: () => ERR_SIGBUS,
  };
}

/** Device `index`'s slice of `bytes` split over `count` devices, in whole 4 KiB pages. */
function shareOf(bytes: number, index: number, count: number): { offset: number; bytes: number } {
  const pages = Math.ceil(bytes / PAGE_BYTES);
  const first = Math.floor((pages * index) / count) * PAGE_BYTES;
  const end = Math.min(bytes, Math.floor((pages * (index + 1)) / count) * PAGE_BYTES);
  return { offset: first, bytes: Math.max(0, end - first) };
}

function hostRangeAllows(d: DriverContext, region: Region, bit: number): boolean {
  const need = PROT_MAPPED | bit;
  const end = region.basePage + Math.ceil(region.spec.sizeBytes / PAGE_BYTES);
  for (let p = region.basePage; p < end; p++) if ((d.prot(p) & need) !== need) return false;
  return true;
}
