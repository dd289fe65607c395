/**
 * Accessed-by mappings after a migration, as the NVIDIA UVM driver makes them: once pages
 * have a new residency, every processor in the range's accessed-by mask that can access
 * that residency maps them there, so it does not fault on them later
 * (kernel-open/nvidia-uvm/uvm_va_block.c: uvm_va_block_service_finish, step 4,
 * block_service_finish_map_accessed_by -> uvm_va_block_add_mappings_after_migration, for
 * GPU and CPU faults alike; uvm_migrate.c, block_migrate_map_unmapped_pages, for
 * cudaMemPrefetchAsync; block_add_eviction_mappings after an eviction); the same for the
 * pages a fault serviced without moving them (service_finish maps each residency's pages,
 * moved or not) and, for the devices given the advice, for the resident pages when it is
 * given (uvm_va_block_set_accessed_by): gmem calls it per run of pages with one residency.
 * The caller says
 * which devices map (the advice, minus the processor that caused the move, minus the
 * preferred location when the pages went elsewhere: uvm_va_block_add_mappings_after_migration
 * excludes both).
 */
import type { Ps } from '../../engine/time.js';
import { CpuPte, DEV_READ, DEV_WRITE, PROT_MAPPED, PROT_READ, PROT_WRITE } from '../../machine/page-state.js';
import { VA_BLOCK_PAGES, type DriverContext } from '../driver.js';
import { mapPeerRuns } from '../peer.js';
import { TO_HOST } from './types.js';

const runBits = new Uint8Array(VA_BLOCK_PAGES);

/** How one device maps the pages of its new residency. */
export interface AccessedByMapping {
  /** Whether `device` gets mappings (accessed-by advice for it, and not excluded). */
  maps: (device: number) => boolean;
  /** Whether devices may map another device's memory peer to peer (gmem's peerToPeer). */
  peerToPeer: boolean;
  /** The device-PTE bits of a page in `device`'s own memory (the residency is that device). */
  localBits: (d: DriverContext, device: number, page: number) => number;
}

/**
 * Maps the pages of [first, end) that live at `residence` (a device index, or TO_HOST for
 * system memory) on every device `how.maps` selects that can access it: its own memory
 * locally; another device's memory peer to peer (peerToPeer and a route: accessible_from
 * in the driver); system memory over its link (every device reaches it), DMA-mapped. Runs
 * of at most a 2 MiB block, one PTE write each; a page already mapped so costs nothing.
 * Returns when done.
 */
export function mapAccessedBy(
  d: DriverContext,
  first: number,
  end: number,
  residence: number,
  how: AccessedByMapping,
  t: Ps,
): Ps {
  let tt = t;
  if (first >= end) return tt;
  for (const dev of d.devices) {
    const device = dev.index;
    if (!how.maps(device)) continue;
    if (residence === TO_HOST) tt = mapRuns(d, device, first, end, (p) => hostBits(d, p), true, tt);
    else if (residence === device) tt = mapRuns(d, device, first, end, (p) => at(d, device, p, how), false, tt);
    else if (how.peerToPeer && d.canReachPeer(device, residence)) tt = mapPeer(d, device, residence, first, end, tt);
  }
  return tt;
}

/** The local bits of a page in `device`'s memory, 0 when it is not there. */
function at(d: DriverContext, device: number, page: number, how: AccessedByMapping): number {
  return d.residency.frame(device, page) >= 0 ? how.localBits(d, device, page) : 0;
}

/**
 * The device-PTE bits of a page in system memory mapped over the link: what its CPU entry
 * and VMA allow (0 when it is not there). A page a forked child shares loses its write bit
 * in writeDevicePtes.
 */
function hostBits(d: DriverContext, page: number): number {
  const prot = d.prot(page);
  if ((prot & (PROT_MAPPED | PROT_READ)) !== (PROT_MAPPED | PROT_READ) || !d.residency.inSystem(page)) return 0;
  const pte = d.cpuPte(page);
  if (pte === CpuPte.Present) return DEV_READ | ((prot & PROT_WRITE) !== 0 ? DEV_WRITE : 0);
  return pte === CpuPte.ReadOnly ? DEV_READ : 0;
}

/** Maps on `device` the runs of [first, end) whose bits are non-zero and not mapped so yet (DMA-mapping them first: `dma`). */
function mapRuns(
  d: DriverContext,
  device: number,
  first: number,
  end: number,
  bitsOf: (page: number) => number,
  dma: boolean,
  t: Ps,
): Ps {
  let tt = t;
  for (let p = first; p < end;) {
    const b = bitsOf(p);
    if (b === 0 || d.devicePte(device, p) === b) {
      p++;
      continue;
    }
    const blockEnd = Math.min(end, (Math.floor(p / VA_BLOCK_PAGES) + 1) * VA_BLOCK_PAGES);
    runBits[0] = b;
    let q = p + 1;
    for (let bq = 0; q < blockEnd && (bq = bitsOf(q)) !== 0; q++) runBits[q - p] = bq;
    if (dma) tt = d.dmaMap(p, q - p, tt);
    tt = d.writeDevicePtes(device, p, runBits, q - p, tt);
    p = q;
  }
  return tt;
}

/** Maps on `device`, peer to peer, the runs of [first, end) that live in `owner`'s memory only. */
function mapPeer(d: DriverContext, device: number, owner: number, first: number, end: number, t: Ps): Ps {
  let tt = t;
  const there = (p: number) => d.residency.frame(owner, p) >= 0 && !d.residency.inSystem(p);
  for (let p = first; p < end;) {
    if (!there(p)) {
      p++;
      continue;
    }
    let q = p + 1;
    while (q < end && there(q)) q++;
    tt = mapPeerRuns(d, device, p, q, tt).t;
    p = q;
  }
  return tt;
}
