import { describe, expect, it } from 'vitest';
import { D2H, H2D } from './types.js';
import {
  PCIE_GENERATIONS,
  PcieLink,
  pcieEffectiveBandwidthGBps,
  pcieLinkSchema,
  pcieRawBandwidthGBps,
  pcieTlpBandwidthGBps,
  pcieTlpCount,
  pcieWireBytes,
  type PcieLinkConfig,
} from './pcie.js';

const MiB = 1024 * 1024;
const config = (over: Partial<PcieLinkConfig> = {}): PcieLinkConfig => pcieLinkSchema.parse({ impl: 'pcie', ...over });

describe('PCIe configuration', () => {
  it('has documented defaults', () => {
    expect(config()).toEqual({
      impl: 'pcie',
      generation: 4,
      lanes: 16,
      mpsBytes: 256,
      mrrsBytes: 512,
      ecrc: false,
      atomicOps: false,
      latencyNs: 200,
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

  it('deducts ACK and UpdateFC DLLPs at the spec intervals and SKP ordered sets from each direction', () => {
    // Gen4 x16, MPS 256: 31.508 x (1 - 8/168 - 8/168 - 4/1538) = 28.425 GB/s (pcie-model's TLP_bw).
    expect(pcieTlpBandwidthGBps(config())).toBeCloseTo(28.425, 3);
    // MPS 128: intervals of 144 B -> 27.925 GB/s.
    expect(pcieTlpBandwidthGBps(config({ mpsBytes: 128 }))).toBeCloseTo(27.9249, 3);
    // x4 at MPS 256: 214 B -> 7.877 x (1 - 16/214 - 4/1538) = 7.2675 GB/s.
    expect(pcieTlpBandwidthGBps(config({ lanes: 4 }))).toBeCloseTo(7.2675, 3);
    // Configured intervals replace the table's.
    const sparse = config({ ackIntervalBytes: 1000, flowControlUpdateIntervalBytes: 1000 });
    expect(pcieTlpBandwidthGBps(sparse)).toBeCloseTo(31.5077 * (1 - 0.016 - 4 / 1538), 3);
  });

  it('splits transfers into TLPs at MPS, MRRS and the completion size', () => {
    const p = config({ readCompletionBytes: 64 });
    expect(pcieTlpCount(p, 'write', MiB)).toBe(4096); // 1 MiB / 256
    expect(pcieTlpCount(p, 'readRequest', MiB)).toBe(2048); // / 512
    expect(pcieTlpCount(p, 'completion', MiB)).toBe(16384); // / 64
    expect(pcieTlpCount(config(), 'completion', MiB)).toBe(4096); // completions up to MPS by default
    expect(pcieTlpCount(p, 'write', 257)).toBe(2);
  });

  it('charges 24 B per MWr, 20 B per completion, 4 B more with ECRC', () => {
    const p = config({ readCompletionBytes: 64 });
    // 4096 x (16 header + 8 link) + 1 MiB = 1 146 880 B
    expect(pcieWireBytes(p, 'write', MiB)).toBe(1_146_880);
    // 16384 completions x 20 B + 1 MiB = 1 376 256 B
    expect(pcieWireBytes(p, 'completion', MiB)).toBe(1_376_256);
    // 2048 requests x 24 B, no data
    expect(pcieWireBytes(p, 'readRequest', MiB)).toBe(49_152);
    // MSI: one 16 B message header + 8 B link + 4 B data
    expect(pcieWireBytes(p, 'message', 4)).toBe(28);
    // ECRC: 4096 x 28 + 1 MiB = 1 163 264 B
    expect(pcieWireBytes(config({ ecrc: true }), 'write', MiB)).toBe(1_163_264);
    // A 1-byte write still carries a whole doubleword: 24 + 4 = 28 B
    expect(pcieWireBytes(p, 'write', 1)).toBe(28);
  });

  // The figures pcie-model prints for these configurations (model/mem_bw.py, 1 MiB).
  it("a 1 MiB DMA write on Gen4 x16 reaches pcie-model's 25.99 GB/s (MPS 256) and 23.52 GB/s (MPS 128)", () => {
    expect(pcieEffectiveBandwidthGBps(config(), 'write', MiB)).toBeCloseTo(25.9886, 3);
    expect(pcieEffectiveBandwidthGBps(config({ mpsBytes: 128 }), 'write', MiB)).toBeCloseTo(23.5157, 3);
  });

  it("reads with 64-byte completions are slower than writes, as pcie-model's rcb_chunks", () => {
    const read64 = pcieEffectiveBandwidthGBps(config({ readCompletionBytes: 64 }), 'read', MiB);
    expect(read64).toBeCloseTo(21.6572, 3);
    expect(pcieEffectiveBandwidthGBps(config(), 'read', MiB)).toBeCloseTo(26.3652, 3);
    expect(read64).toBeLessThan(pcieEffectiveBandwidthGBps(config(), 'write', MiB));
  });

  it('scales with lanes and generation, not with a configured constant', () => {
    const base = pcieEffectiveBandwidthGBps(config(), 'write', MiB);
    expect(pcieEffectiveBandwidthGBps(config({ generation: 5 }), 'write', MiB)).toBeCloseTo(base * 2, 9);
    // Gen3 x16: half the rate per lane, the same DLLP intervals.
    expect(pcieEffectiveBandwidthGBps(config({ generation: 3 }), 'write', MiB)).toBeCloseTo(base / 2, 9);
    // x8 has a longer DLLP interval (203 B at MPS 256), so a little more than half.
    const x8 = pcieEffectiveBandwidthGBps(config({ lanes: 8 }), 'write', MiB);
    expect(x8 / (base / 2)).toBeCloseTo((1 - 16 / 203 - 4 / 1538) / (1 - 16 / 168 - 4 / 1538), 9);
  });

  it('Gen6 FLIT mode drops per-TLP link overhead and DLLPs but pays 256/242 per flit', () => {
    // 128 x (1 - 4/1538) x 242/256 = 120.685 GB/s usable; (4096 x 16 + 1 MiB) B per MiB -> 113.586 GB/s
    expect(pcieTlpBandwidthGBps(config({ generation: 6 }))).toBeCloseTo(120.6853, 3);
    expect(pcieEffectiveBandwidthGBps(config({ generation: 6 }), 'write', MiB)).toBeCloseTo(113.586, 2);
  });
});

describe('PcieLink timing', () => {
  const usable = pcieTlpBandwidthGBps(config());
  const ps = (bytes: number) => Math.ceil((bytes * 1000) / usable);

  it('a 1 MiB write arrives after serialisation at the usable bandwidth plus one-way latency', () => {
    const link = new PcieLink(config());
    // 1 146 880 B / 28.425 GB/s = 40 347 560 ps, + 200 ns
    expect(link.write(0, H2D, MiB)).toBe(ps(1_146_880) + 200_000);
    expect(link.name).toBe('pcie-gen4-x16');
    expect(link.stats.payloadBytes).toEqual([MiB, 0]);
    expect(link.stats.packets).toEqual([4096, 0]);
    expect(link.stats.wireBytes).toEqual([1_146_880, 0]);
    expect(link.stats.busyPs[H2D]).toBe(ps(1_146_880));
  });

  it('queues transfers in the same direction, and the other direction stays free', () => {
    const link = new PcieLink(config());
    const first = link.write(0, H2D, MiB);
    const second = link.write(0, H2D, MiB);
    expect(second - first).toBe(ps(1_146_880));
    expect(link.servers[H2D].queueWaitPs).toBe(ps(1_146_880));
    expect(link.write(0, D2H, MiB)).toBe(first);
  });

  it('an MSI on an idle link costs its 28 B at the usable bandwidth plus latency', () => {
    const link = new PcieLink(config());
    expect(link.message(1000, D2H, 4)).toBe(1000 + ps(28) + 200_000);
  });

  it('read completions are split at the completion size and requests at MRRS', () => {
    const link = new PcieLink(config({ readCompletionBytes: 64 }));
    const req = link.readRequest(0, D2H, MiB);
    // 2048 x 24 B
    expect(req).toBe(ps(49_152) + 200_000);
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
