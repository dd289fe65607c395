/**
 * Peer-to-peer mappings: a device maps pages that live in another device's memory, as a
 * driver whose devices share a device-private owner does when hmm_range_fault returns the
 * peer's pages (and dma-maps them through the route: by bus address across a switch,
 * dma_map_resource through the root complex). Used by hmm-migrate's faults (peerToPeer)
 * and by the p2p.map op. The notifier tears the mappings down before the owner's memory
 * goes (invalidate.ts).
 */
import { OpError, type Outcome } from '../engine/errno.js';
import type { Ps } from '../engine/time.js';
import type { Region } from '../machine/address-space.js';
import {
  CpuPte,
  DEV_PEER,
  DEV_READ,
  DEV_WRITE,
  PAGE_COW,
  PROT_MAPPED,
  PROT_READ,
  PROT_WRITE,
} from '../machine/page-state.js';
import { VA_BLOCK_PAGES, type DriverContext } from './driver.js';

/**
 * The other device whose memory alone holds readable page `page` (a device-private or
 * device-coherent page), or -1. For a write, -1 too when a forked child shares the page:
 * the write must break the copy-on-write instead.
 */
export function peerHolder(d: DriverContext, device: number, page: number, write = false): number {
  if ((d.prot(page) & (PROT_MAPPED | PROT_READ)) !== (PROT_MAPPED | PROT_READ)) return -1;
  if (d.residency.inSystem(page) || d.residency.frame(device, page) >= 0) return -1;
  const pte = d.cpuPte(page);
  if (pte !== CpuPte.DevicePrivate && pte !== CpuPte.Present) return -1;
  if (write && (d.pageFlags(page) & PAGE_COW) !== 0) return -1;
  return d.residency.holderOtherThan(page, device);
}

/** Whether `device` already maps `page` peer to peer with the bits it would get now. */
function mappedAsPeer(d: DriverContext, device: number, page: number): boolean {
  return d.devicePte(device, page) === peerBits(d, page);
}

/** The device-PTE bits of a page mapped in a peer's memory: what the VMA allows. */
export function peerBits(d: DriverContext, page: number): number {
  return DEV_PEER | DEV_READ | ((d.prot(page) & PROT_WRITE) !== 0 ? DEV_WRITE : 0);
}

const runBits = new Uint8Array(VA_BLOCK_PAGES);

/**
 * Maps on `device` the pages of [first, end) that live in a peer's memory it can reach and
 * it does not map yet, a run per owner and 2 MiB block (one PTE write each). `mapped`
 * counts the range's peer pages mapped now or before; `unreachable`: an owner it found but
 * has no route to (-1 if none).
 */
export function mapPeerRuns(
  d: DriverContext,
  device: number,
  first: number,
  end: number,
  t: Ps,
): { t: Ps; mapped: number; unreachable: number } {
  let tt = t;
  let mapped = 0;
  let unreachable = -1;
  for (let p = first; p < end;) {
    const owner = peerHolder(d, device, p);
    const reachable = owner >= 0 && d.canReachPeer(device, owner);
    if (!reachable || mappedAsPeer(d, device, p)) {
      if (owner >= 0 && !reachable) unreachable = owner;
      else if (reachable) mapped++;
      p++;
      continue;
    }
    let q = p;
    const blockEnd = (Math.floor(p / VA_BLOCK_PAGES) + 1) * VA_BLOCK_PAGES;
    while (q < end && q < blockEnd && peerHolder(d, device, q) === owner && !mappedAsPeer(d, device, q)) {
      runBits[q - p] = peerBits(d, q);
      q++;
    }
    tt = d.mapPeerPages(device, owner, q - p, tt);
    tt = d.writeDevicePtes(device, p, runBits, q - p, tt);
    mapped += q - p;
    p = q;
  }
  return { t: tt, mapped, unreachable };
}

/** The p2p.map op over pages [first, first + pages) of `region`. */
export function mapPeerRange(
  d: DriverContext,
  region: Region,
  first: number,
  pages: number,
  device: number,
  t: Ps,
): Outcome {
  const done = mapPeerRuns(d, device, first, first + pages, t);
  if (done.mapped > 0) return done.t;
  const name = d.devices[device].name;
  if (done.unreachable >= 0) {
    return new OpError(
      'EREMOTEIO',
      `p2p.map of ${region.spec.name}: ${name} has no peer-to-peer route to ${d.devices[done.unreachable].name} (they are on different root ports and hardware.peerToPeer.hostBridge is false; put them under one hardware.pcieSwitch)`,
    );
  }
  return new OpError(
    'ENOENT',
    `p2p.map of ${region.spec.name}: no page of the range is in another device's memory (migrate it there first)`,
  );
}
