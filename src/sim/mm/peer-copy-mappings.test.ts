/**
 * Peer copies through the root complex DMA-map each destination page once per source and
 * destination, and the mapping (its IOTLB entry) goes when the destination frame is freed;
 * across a switch, or with the IOMMU in passthrough, nothing is mapped.
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../config/validate.js';
import { Simulation } from '../simulate.js';

const PAGES = 16;

/** Two devices (each on a root port, or under one switch) and a mapped 16-page region, with frames on both devices. */
function setUp(hardware: Record<string, unknown>) {
  const sim = new Simulation(
    parseExperiment({
      name: 'peer copy mappings',
      hardware: { devices: [{}, { name: 'device1' }], ...hardware },
      strategy: { impl: 'explicit-copy' },
      workload: { impl: 'scripted', ops: [{ op: 'mmap', name: 'a', sizeBytes: PAGES * 4096 }] },
    }),
  );
  while (sim.nextPhase < sim.plan.phases.length) sim.runPhase();
  const d = sim.mm.driver;
  const m = sim.machine;
  const region = m.space.regions[0];
  for (let i = 0; i < PAGES; i++) {
    for (const dev of [0, 1]) m.residency.addDeviceCopy(dev, region.basePage + i, d.allocFrame(dev, 0));
  }
  return { d, m, region };
}

describe('IOMMU mappings of peer copies', () => {
  it('through the root complex: mapped once per destination page and source, dropped with the frame', () => {
    const { d, m, region } = setUp({});
    const mapPs = d.timing.dmaMapPerPage;
    expect(mapPs).toBeGreaterThan(0);
    const k0 = m.devices[0].counters;
    // Half the region, then all of it: only the new half is mapped the second time.
    const t1 = d.copyToPeer(0, 1, region, 0, (PAGES / 2) * 4096, 0);
    expect(k0.peerCopyDmaMappedPages).toBe(PAGES / 2);
    d.copyToPeer(0, 1, region, 0, PAGES * 4096, t1);
    expect(k0.peerCopyDmaMappedPages).toBe(PAGES);
    // Copying again maps nothing, so it starts copying sooner than a first copy would.
    const again = d.copyToPeer(0, 1, region, 0, PAGES * 4096, 1e12) - 1e12;
    expect(k0.peerCopyDmaMappedPages).toBe(PAGES);
    // The other direction is another source: its own mappings.
    const reverse = d.copyToPeer(1, 0, region, 0, PAGES * 4096, 2e12) - 2e12;
    expect(m.devices[1].counters.peerCopyDmaMappedPages).toBe(PAGES);
    expect(reverse).toBeGreaterThanOrEqual(again + PAGES * mapPs * 0.9);

    // Freeing device1's frame of page 3 drops device0's mapping of it, with an IOTLB invalidation.
    const commands = m.iommu.invalidationCommands;
    const frame = m.residency.dropDeviceCopy(1, region.basePage + 3);
    d.freeFrame(1, frame, 3e12);
    expect(k0.peerCopyDmaUnmappedPages).toBe(1);
    expect(m.iommu.invalidationCommands).toBe(commands + 1);
    // A frame it gets again is mapped anew on its first copy.
    m.residency.addDeviceCopy(1, region.basePage + 3, d.allocFrame(1, 3e12));
    d.copyToPeer(0, 1, region, 0, PAGES * 4096, 4e12);
    expect(k0.peerCopyDmaMappedPages).toBe(PAGES + 1);
  });

  it('across a switch, or with the IOMMU in passthrough, nothing is mapped', () => {
    for (const hardware of [{ pcieSwitch: {} }, { iommu: { mode: 'passthrough' } }]) {
      const { d, m, region } = setUp(hardware);
      d.copyToPeer(0, 1, region, 0, PAGES * 4096, 0);
      expect(m.devices[0].counters.peerCopyDmaMappedPages).toBe(0);
      const commands = m.iommu.invalidationCommands;
      d.freeFrame(1, m.residency.dropDeviceCopy(1, region.basePage), 1e12);
      expect(m.devices[0].counters.peerCopyDmaUnmappedPages).toBe(0);
      expect(m.iommu.invalidationCommands).toBe(commands);
    }
  });
});
