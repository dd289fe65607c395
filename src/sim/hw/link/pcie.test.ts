import { describe, expect, it } from 'vitest';
import { D2H, H2D } from './types.js';
import {
  PCIE_GENERATIONS,
  PcieLink,
  pcieEffectiveBandwidthGBps,
  pcieLinkSchema,
  pcieRawBandwidthGBps,
  pcieTlpCount,
  pcieWireBytes,
  type PcieLinkConfig,
} from './pcie.js';

const MiB = 1024 * 1024;
const SKP = 1542 / 1538; // 4 B of SKP ordered set per 1538 B
const config = (over: Partial<PcieLinkConfig> = {}): PcieLinkConfig => pcieLinkSchema.parse({ impl: 'pcie', ...over });

describe('PCIe configuration', () => {
  it('has documented defaults', () => {
    expect(config()).toEqual({
      impl: 'pcie',
      generation: 4,
      lanes: 16,
      mpsBytes: 256,
      mrrsBytes: 512,
      readCompletionBytes: 64,
      ecrc: false,
      latencyNs: 200,
      ackCoalescing: 4,
      flowControlUpdateTlps: 4,
    });
  });

  it('explains a wrong generation or width in a sentence', () => {
    const gen = pcieLinkSchema.safeParse({ impl: 'pcie', generation: 7 });
    expect(gen.error?.issues[0].message).toBe('7 is not a PCIe generation; use 3, 4, 5 or 6');
    expect(gen.error?.issues[0].path).toEqual(['generation']);
    const lanes = pcieLinkSchema.safeParse({ impl: 'pcie', lanes: 3 });
    expect(lanes.error?.issues[0].message).toBe('3 is not a PCIe link width; use 1, 2, 4, 8 or 16');
  });

  it('parses sizes and checks them', () => {
    expect(config({ mpsBytes: '512B' as unknown as number }).mpsBytes).toBe(512);
    expect(pcieLinkSchema.safeParse({ impl: 'pcie', mpsBytes: 200 }).error?.issues[0].message).toMatch(
      /not a power of two/,
    );
    expect(pcieLinkSchema.safeParse({ impl: 'pcie', mpsBytes: 64 }).error?.issues[0].message).toBe(
      '64 B is too small; use at least 128 B',
    );
    expect(pcieLinkSchema.safeParse({ impl: 'pcie', mpsBytes: 8192 }).error?.issues[0].message).toMatch(/too large/);
    const rcb = pcieLinkSchema.safeParse({ impl: 'pcie', mpsBytes: 128, readCompletionBytes: 256 });
    expect(rcb.error?.issues[0].message).toBe(
      '256 B is larger than mpsBytes (128 B); a completion cannot carry more than MPS',
    );
  });

  it('tabulates all six generations', () => {
    expect(Object.keys(PCIE_GENERATIONS)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(PCIE_GENERATIONS[2]).toEqual({ gtPerLane: 5, encoding: '8b/10b' });
    expect(PCIE_GENERATIONS[6].encoding).toBe('flit');
  });
});

describe('PCIe bandwidth from first principles', () => {
  it('computes raw line rates after encoding', () => {
    // Gen4 x16: 16 GT/s x 16 x 128/130 / 8 = 31.51 GB/s
    expect(pcieRawBandwidthGBps(4, 16)).toBeCloseTo(31.5077, 4);
    // Gen3 x8: 8 x 8 x 128/130 / 8 = 7.877 GB/s
    expect(pcieRawBandwidthGBps(3, 8)).toBeCloseTo(7.8769, 4);
    // Gen1 x1: 2.5 x 0.8 / 8 = 0.25 GB/s
    expect(pcieRawBandwidthGBps(1, 1)).toBeCloseTo(0.25, 10);
    // Gen6 x16 FLIT: 64 x 16 / 8 = 128 GB/s before flit overhead
    expect(pcieRawBandwidthGBps(6, 16)).toBe(128);
  });

  it('splits transfers into TLPs at MPS, MRRS and the completion size', () => {
    const p = config();
    expect(pcieTlpCount(p, 'write', MiB)).toBe(4096); // 1 MiB / 256
    expect(pcieTlpCount(p, 'readRequest', MiB)).toBe(2048); // / 512
    expect(pcieTlpCount(p, 'completion', MiB)).toBe(16384); // / 64
    expect(pcieTlpCount(p, 'write', 257)).toBe(2);
  });

  it('charges 24 B per MWr, 20 B per completion, 4 B more with ECRC', () => {
    const p = config();
    // 4096 x (16 header + 8 link) + 1 MiB = 1 146 880 B, x 1542/1538 for SKP = 1 149 862.8 B
    expect(pcieWireBytes(p, 'write', MiB)).toBeCloseTo(1_149_862.78, 1);
    // 16384 completions x 20 B + 1 MiB = 1 376 256 B
    expect(pcieWireBytes(p, 'completion', MiB)).toBeCloseTo(1_376_256 * SKP, 6);
    // 2048 requests x 24 B, no data
    expect(pcieWireBytes(p, 'readRequest', MiB)).toBeCloseTo(49_152 * SKP, 6);
    // MSI: one 16 B message header + 8 B link + 4 B data
    expect(pcieWireBytes(p, 'message', 4)).toBeCloseTo(28 * SKP, 9);
    // ECRC: 4096 x 28 + 1 MiB = 1 163 264 B
    expect(pcieWireBytes(config({ ecrc: true }), 'write', MiB)).toBeCloseTo(1_163_264 * SKP, 6);
    // A 1-byte write still carries a whole doubleword: 24 + 4 = 28 B
    expect(pcieWireBytes(p, 'write', 1)).toBeCloseTo(28 * SKP, 9);
  });

  it('a 1 MiB DMA write on Gen4 x16 with MPS 256 reaches about 28.7 GB/s', () => {
    // 1 MiB x 31.5077 / 1 149 862.8 = 28.73 GB/s (91.2 % of raw)
    expect(pcieEffectiveBandwidthGBps(config(), 'write', MiB)).toBeCloseTo(28.732, 2);
    // MPS 128: 8192 x 24 + 1 MiB = 1 245 184 B -> 26.46 GB/s
    expect(pcieEffectiveBandwidthGBps(config({ mpsBytes: 128 }), 'write', MiB)).toBeCloseTo(26.464, 2);
  });

  it('reads with 64-byte completions are slower than writes', () => {
    // Data direction: 1 376 256 B of completions + 1024 DLLPs (ACK + UpdateFC for 2048 requests) x 8 B
    //   = 1 384 448 B x SKP = 1 388 048.6 B -> 1 MiB x 31.5077 / that = 23.80 GB/s
    const read64 = pcieEffectiveBandwidthGBps(config(), 'read', MiB);
    expect(read64).toBeCloseTo(23.802, 2);
    // MPS-sized completions: 4096 x 20 + 1 MiB + 8192 B of DLLPs -> 28.94 GB/s
    expect(pcieEffectiveBandwidthGBps(config({ readCompletionBytes: 256 }), 'read', MiB)).toBeCloseTo(28.939, 2);
    expect(read64).toBeLessThan(pcieEffectiveBandwidthGBps(config(), 'write', MiB));
  });

  it('scales with lanes and generation, not with a configured constant', () => {
    const base = pcieEffectiveBandwidthGBps(config(), 'write', MiB);
    expect(pcieEffectiveBandwidthGBps(config({ lanes: 8 }), 'write', MiB)).toBeCloseTo(base / 2, 9);
    expect(pcieEffectiveBandwidthGBps(config({ generation: 5 }), 'write', MiB)).toBeCloseTo(base * 2, 9);
    // Gen3 x8: half the rate per lane, half the lanes
    expect(pcieEffectiveBandwidthGBps(config({ generation: 3, lanes: 8 }), 'write', MiB)).toBeCloseTo(base / 4, 9);
  });

  it('Gen6 FLIT mode drops per-TLP link overhead but pays 256/242 per flit', () => {
    // (4096 x 16 + 1 MiB) x 256/242 x SKP = 1 181 630 B -> 1 MiB x 128 / that = 113.59 GB/s
    expect(pcieEffectiveBandwidthGBps(config({ generation: 6 }), 'write', MiB)).toBeCloseTo(113.587, 2);
  });
});

describe('PcieLink timing', () => {
  it('a 1 MiB write arrives after serialisation plus one-way latency', () => {
    const link = new PcieLink(config());
    // 1 149 862.78 B / 31.5077 GB/s = 36 494 669 ps (rounded up), + 200 ns
    expect(link.write(0, H2D, MiB)).toBe(36_494_669 + 200_000);
    expect(link.name).toBe('pcie-gen4-x16');
    expect(link.stats.payloadBytes).toEqual([MiB, 0]);
    expect(link.stats.packets).toEqual([4096, 0]);
    expect(link.stats.wireBytes[H2D]).toBeCloseTo(1_149_862.78, 1);
    // The receiver returns 1024 ACKs + 1024 UpdateFCs = 16 384 B (x SKP) the other way.
    expect(link.stats.wireBytes[D2H]).toBeCloseTo(16_384 * SKP, 6);
    expect(link.stats.busyPs[H2D]).toBe(36_494_669);
  });

  it('queues transfers in the same direction', () => {
    const link = new PcieLink(config());
    const first = link.write(0, H2D, MiB);
    const second = link.write(0, H2D, MiB);
    expect(second - first).toBe(36_494_669);
    expect(link.servers[H2D].queueWaitPs).toBe(36_494_669);
  });

  it('ACKs trickle back during a transfer instead of blocking the other direction', () => {
    const link = new PcieLink(config());
    link.write(0, H2D, MiB);
    // The 16 426.6 B of DLLPs are spread over the write's 36 494 669 ps (4.5e-4 B/ps). A D2H MSI at
    // t = 0 interleaves with 891 ps' worth of them, 0.40 B: 28.47 B -> 904 ps instead of 891.
    expect(link.message(0, D2H, 4)).toBe(904 + 200_000);
  });

  it('saturated both ways, the later direction loses the DLLP share of its bandwidth', () => {
    const link = new PcieLink(config());
    link.write(0, H2D, MiB);
    // D2H carries its own 1 149 862.8 B plus all 16 426.6 B of H2D's DLLPs:
    // 1 166 289.4 B / 31.5077 GB/s = 37 016 021 ps, 1.43 % longer than alone.
    expect(link.write(0, D2H, MiB)).toBe(37_016_021 + 200_000);
  });

  it('an MSI on an idle link costs 891 ps of wire time plus latency', () => {
    const link = new PcieLink(config());
    expect(link.message(1000, D2H, 4)).toBe(1000 + 891 + 200_000);
  });

  it('acknowledges every 4 TLPs with one ACK and one UpdateFC', () => {
    const link = new PcieLink(config());
    for (let i = 0; i < 3; i++) link.message(0, H2D, 0);
    expect(link.stats.wireBytes[D2H]).toBe(0);
    link.message(0, H2D, 0);
    expect(link.stats.wireBytes[D2H]).toBeCloseTo(16 * SKP, 9);
  });

  it('read completions are split at 64 B and requests at MRRS', () => {
    const link = new PcieLink(config());
    const req = link.readRequest(0, D2H, MiB);
    // 2048 x 24 B x SKP = 49 279.8 B / 31.5077 = 1 564 050 ps (rounded up) + 200 ns
    expect(req).toBe(Math.ceil((49_152 * SKP * 1000) / pcieRawBandwidthGBps(4, 16)) + 200_000);
    link.readCompletion(req, H2D, MiB);
    expect(link.stats.packets).toEqual([16384, 2048]);
    expect(link.stats.payloadBytes).toEqual([MiB, 0]);
  });

  it('does nothing for empty transfers', () => {
    const link = new PcieLink(config());
    expect(link.write(5, H2D, 0)).toBe(5);
    expect(link.readRequest(5, H2D, 0)).toBe(5);
    expect(link.readCompletion(5, H2D, 0)).toBe(5);
    expect(link.stats.packets).toEqual([0, 0]);
  });
});
