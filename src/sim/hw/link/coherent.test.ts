import { describe, expect, it } from 'vitest';
import { D2H, H2D } from './types.js';
import {
  CoherentLink,
  coherentEffectiveBandwidthGBps,
  coherentLinkSchema,
  coherentWireBytes,
  type CoherentLinkConfig,
} from './coherent.js';

const config = (over: Partial<CoherentLinkConfig> = {}) => coherentLinkSchema.parse({ impl: 'coherent', ...over });

describe('coherent link', () => {
  it('defaults to CXL 2.0 over PCIe 5.0 x16', () => {
    expect(config()).toEqual({
      impl: 'coherent',
      protocol: 'cxl',
      bandwidthGBps: 63,
      latencyNs: 100,
      lineBytes: 64,
      dataHeaderBytes: 16,
      requestBytes: 16,
    });
    expect(coherentLinkSchema.safeParse({ impl: 'coherent', lineBytes: 32 }).error?.issues[0].message).toBe(
      '32 is not a cache-line size; use 64 or 128',
    );
  });

  it('moves whole lines with a header each', () => {
    const c = config();
    // 4 KiB = 64 lines: 64 x 16 B of requests, 64 x (64 + 16) B of data
    expect(coherentWireBytes(c, 'readRequest', 4096)).toBe(1024);
    expect(coherentWireBytes(c, 'completion', 4096)).toBe(5120);
    // 8 bytes still move a full line
    expect(coherentWireBytes(c, 'completion', 8)).toBe(80);
    // 63 GB/s x 64 / 80 = 50.4 GB/s of data
    expect(coherentEffectiveBandwidthGBps(c)).toBeCloseTo(50.4, 9);
  });

  it('times a 4 KiB read: requests one way, lines the other', () => {
    const link = new CoherentLink(config());
    // 1024 B / 63 GB/s = 16 253.97 -> 16 254 ps, + 100 ns
    const req = link.readRequest(0, D2H, 4096);
    expect(req).toBe(116_254);
    // 5120 B / 63 GB/s = 81 269.8 -> 81 270 ps, + 100 ns
    expect(link.readCompletion(req, H2D, 4096)).toBe(req + 81_270 + 100_000);
    expect(link.stats.packets).toEqual([64, 64]);
    expect(link.stats.payloadBytes).toEqual([4096, 0]);
    expect(link.name).toBe('cxl');
  });

  it('charges write completions to the opposite direction', () => {
    const link = new CoherentLink(config());
    // 2 lines: 160 B H2D -> ceil(160 000 / 63) = 2540 ps; 2 x 16 B completions D2H
    expect(link.write(0, H2D, 128)).toBe(2540 + 100_000);
    expect(link.stats.wireBytes).toEqual([160, 32]);
  });

  it('write completions share the reverse direction only when it is busy', () => {
    const link = new CoherentLink(config());
    // 1 MiB = 16 384 lines x 80 B = 1 310 720 B / 63 GB/s = 20 805 080 ps
    expect(link.write(0, H2D, 1024 * 1024)).toBe(20_805_080 + 100_000);
    // A D2H write alongside also carries the 16 384 x 16 B = 262 144 B of completions:
    // 1 572 864 B / 63 GB/s = 24 966 096 ps
    expect(link.write(0, D2H, 1024 * 1024)).toBe(24_966_096 + 100_000);
  });

  it('NVLink-C2C figures give 360 GB/s of line data per direction', () => {
    const c = config({ protocol: 'nvlink-c2c', bandwidthGBps: 450 });
    // 450 x 64 / 80 = 360 GB/s
    expect(coherentEffectiveBandwidthGBps(c)).toBeCloseTo(360, 9);
    const link = new CoherentLink(c);
    // 1 MiB = 16 384 lines x 80 B = 1 310 720 B / 450 GB/s = 2 912 711.1 -> 2 912 712 ps
    expect(link.readCompletion(0, H2D, 1024 * 1024)).toBe(2_912_712 + 100_000);
  });

  it('a message is a header-only packet plus its payload', () => {
    const link = new CoherentLink(config());
    // 16 + 8 = 24 B -> ceil(24 000 / 63) = 381 ps
    expect(link.message(0, D2H, 8)).toBe(381 + 100_000);
  });
});
