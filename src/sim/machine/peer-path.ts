/**
 * Peer-to-peer: a device context's access to a page that lives in another device's memory
 * (its device PTE carries DEV_PEER), as PCIe carries it between two endpoints:
 *
 * - across a PCIe switch (both devices under it, no ACS redirection): the request goes
 *   down the requester's own link, the switch forwards it cut-through to the owner's port
 *   and down the owner's own link; the data comes back the same way. The root
 *   complex, the IOMMU and the shared upstream link never see it (Linux's
 *   PCI_P2PDMA_MAP_BUS_ADDR).
 * - through the root complex (each device on its own root port, or ACS redirection on the
 *   switch): the request travels the requester's whole path to the host, the root complex
 *   receives it, the IOMMU translates the peer address the driver DMA-mapped
 *   (dma_map_resource of the owner's BAR page), and it goes down the owner's whole path
 *   (PCI_P2PDMA_MAP_THRU_HOST_BRIDGE). Completions are routed by ID, not translated.
 *
 * The owner's memory serves the request on its DRAM as its copy engines' accesses do. The
 * requester holds a tag per read request, as for system memory.
 */
import type { Ps } from '../engine/time.js';
import { nsToPs } from '../engine/time.js';
import type { Iommu } from '../hw/iommu.js';
import { D2H, H2D } from '../hw/link/types.js';
import type { Link } from '../hw/link/types.js';
import { DRAM_WAIT, LINK_WAIT } from './contexts.js';
import type { Device } from './device.js';
import type { Machine, MachineConfig } from './machine.js';
import { PAGE_BYTES } from './page-state.js';

export interface PeerRoute {
  /** Through the root complex (and the IOMMU); false: across the PCIe switch. */
  readonly viaHostBridge: boolean;
  /** The requester's side of the route, and the owner's. */
  readonly out: Link;
  readonly in: Link;
  /** Forwarding latency between the two sides (switch port to port, or the root complex). */
  readonly forwardPs: Ps;
  readonly iommu: Iommu;
}

/** Peer-to-peer DMA addresses in the IOMMU: above every page number (page numbers stay below 2^40). */
const PEER_IOVA_BASE = 2 ** 40;

/** The IOMMU key of the DMA mapping of `owner`'s frame `frame` for peers (dma_map_resource of its BAR page). */
export function peerIova(owner: number, frame: number): number {
  return PEER_IOVA_BASE + owner * 2 ** 32 + frame;
}

/** Routes between every pair of devices (null on the diagonal and where no route exists). */
export function peerRoutes(devices: readonly Device[], config: MachineConfig, iommu: Iommu): (PeerRoute | null)[][] {
  const sw = config.pcieSwitch;
  const p2p = config.peerToPeer;
  return devices.map((a) =>
    devices.map((b): PeerRoute | null => {
      if (a === b) return null;
      if (sw !== undefined && !sw.acsRedirect) {
        return { viaHostBridge: false, out: a.ownLink, in: b.ownLink, forwardPs: nsToPs(sw.latencyNs), iommu };
      }
      if (!p2p.hostBridge) return null;
      return { viaHostBridge: true, out: a.link, in: b.link, forwardPs: nsToPs(p2p.hostBridgeForwardNs), iommu };
    }),
  );
}

/** When a request or write sent on the route's requester side at `t` (ending there at `a`) has crossed to the owner's side. */
function forward(route: PeerRoute, t: Ps, a: Ps, second: (at: Ps) => Ps, key: number): Ps {
  if (route.viaHostBridge) return second(route.iommu.translate(a + route.forwardPs, key));
  // Cut-through: the owner's link carries it over the same interval, after the port-to-port latency.
  const b = second(t + route.forwardPs);
  return Math.max(a + route.forwardPs, b);
}

/**
 * A posted write of `bytes` from device `from` (its copy engines) into device `to`'s frame
 * `frame` at `offsetInPage`, sent at `t` on the route between them: when the data is in
 * `to`'s memory. cudaMemcpyPeer's path: the source's engines write across the switch, or
 * through the root complex with the IOMMU translating the peer address.
 */
export function peerWrite(
  m: Machine,
  from: Device,
  to: Device,
  frame: number,
  offsetInPage: number,
  bytes: number,
  t: Ps,
): Ps {
  const route = m.peerRoutes[from.index][to.index];
  if (route === null) throw new Error(`${from.name} has no peer-to-peer route to ${to.name}`);
  const a = route.out.write(t, D2H, bytes);
  const arrival = forward(route, t, a, (at) => route.in.write(at, H2D, bytes), peerIova(to.index, frame));
  m.hooks.transfer?.(arrival, D2H, bytes);
  return to.dram.access(arrival, frame * PAGE_BYTES + offsetInPage, bytes, true);
}

/**
 * The data of device context `c`'s access to `page`, which lives in another device's
 * memory (the residency record says whose, and which frame), issued at `t`: a write is
 * posted (the context goes on once its last byte left the device); a read holds tags
 * until its data is back.
 */
export function peerData(
  m: Machine,
  dev: Device,
  c: number,
  page: number,
  offset: number,
  bytes: number,
  write: boolean,
  t: Ps,
): Ps {
  const owner = m.residency.holderOtherThan(page, dev.index);
  const frame = owner < 0 ? -1 : m.residency.frame(owner, page);
  const route = owner < 0 ? null : m.peerRoutes[dev.index][owner];
  if (frame < 0 || route === null) {
    // The teardown order guarantees this never happens: a peer mapping goes before the memory it maps.
    throw new Error(
      `${dev.name} used a peer-to-peer mapping of ${m.space.describePage(page)} after the memory it mapped was freed`,
    );
  }
  const peer = m.devices[owner];
  const addr = frame * PAGE_BYTES + (offset % PAGE_BYTES);
  const key = peerIova(owner, frame);
  const ctxs = m.contexts;
  const k = dev.counters;
  k.p2pBytes += bytes;
  let tt = t + dev.t.onChip;
  if (write) {
    const a = route.out.write(tt, D2H, bytes);
    const sent = route.out.sentPs;
    const arrival = forward(route, tt, a, (at) => route.in.write(at, H2D, bytes), key);
    m.hooks.transfer?.(arrival, D2H, bytes);
    peer.dram.access(arrival, addr, bytes, true);
    ctxs.charge(c, LINK_WAIT, sent);
    return sent;
  }
  const sector = dev.sectorBytes;
  const wire = Math.ceil(((offset & (sector - 1)) + bytes) / sector) * sector;
  const requests = route.out.requestsFor(wire);
  const granted = dev.tags.acquire(tt, requests);
  const a = route.out.readRequest(granted, D2H, wire);
  tt = forward(route, granted, a, (at) => route.in.readRequest(at, H2D, wire), key);
  ctxs.charge(c, LINK_WAIT, tt);
  tt = peer.dram.access(tt, addr, wire, false);
  ctxs.charge(c, DRAM_WAIT, tt);
  // The completions come back by ID: through the root complex without a translation.
  const back = route.in.readCompletion(tt, D2H, wire);
  const start = route.viaHostBridge ? back + route.forwardPs : tt + route.forwardPs;
  const home = route.out.readCompletion(start, H2D, wire);
  tt = route.viaHostBridge ? home : Math.max(back + route.forwardPs, home);
  dev.tags.hold(tt, requests);
  m.hooks.transfer?.(tt, H2D, wire);
  tt += dev.t.onChip;
  ctxs.charge(c, LINK_WAIT, tt);
  return tt;
}
