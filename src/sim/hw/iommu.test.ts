import { describe, expect, it } from 'vitest';
import {
  createAtc,
  invalidateTranslations,
  Iommu,
  iommuSchema,
  lookupTranslation,
  pmdTag,
  type IommuConfig,
} from './iommu.js';
import { Tlb } from './tlb.js';

const config = (over: Record<string, unknown> = {}): IommuConfig => iommuSchema.parse(over);
// Defaults: IOTLB hit 3 ns; a walk level 90 ns; 4 levels.
const HIT = 3000;
const LEVEL = 90_000;

describe('IOMMU configuration', () => {
  it('has the gem5 SMMUv3 and Linux defaults', () => {
    const c = config();
    expect(c.mode).toBe('translate');
    expect(c.iotlb).toEqual({ entries: 2048, ways: 4 });
    expect(c.pageWalkCache).toEqual({ entries: 384, ways: 4 });
    expect(c.walkers).toBe(16);
    expect(c.ats).toEqual({ enabled: false, atcEntries: 256, atcWays: 4 });
    expect(c.pri).toEqual({ queueDepth: 32, pageRequestLatencyNs: 5000 });
    expect(c.invalidation).toEqual({ commandNs: 30, syncNs: 1000, asidInvalidateAtPages: 512 });
  });

  it('reports errors in nested objects with their path', () => {
    const r = iommuSchema.safeParse({ ats: { atcEntries: 10 } });
    expect(r.error?.issues[0].message).toBe('10 entries is not a multiple of 4 ways');
    expect(r.error?.issues[0].path).toEqual(['ats', 'atcEntries']);
    expect(iommuSchema.safeParse({ mode: 'bypass' }).error?.issues[0].message).toBe(
      '"bypass" is not an IOMMU mode; use "translate" or "passthrough"',
    );
  });
});

describe('Iommu.translate', () => {
  it('a miss walks all four levels, a hit costs the lookup', () => {
    const iommu = new Iommu(config());
    expect(iommu.translate(0, 5)).toBe(HIT + 4 * LEVEL); // 363 ns
    expect(iommu.translate(400_000, 5)).toBe(400_000 + HIT);
    expect([iommu.iotlbHits, iommu.iotlbMisses, iommu.walks, iommu.walkAccesses]).toEqual([1, 1, 1, 4]);
  });

  it('the page-walk cache saves the upper levels it holds', () => {
    const iommu = new Iommu(config());
    iommu.translate(0, 5); // caches the level-1 entry of pages 0-511, level 2 of 0-262143, level 3 of 0-2^27-1
    // page 6: level-1 entry cached -> only the leaf
    expect(iommu.translate(0, 6)).toBe(HIT + 1 * LEVEL);
    // page 512: new level-1 entry, level 2 cached -> 2 accesses
    expect(iommu.translate(0, 512)).toBe(HIT + 2 * LEVEL);
    // page 262 144 = 512^2: new level-1 and level-2 entries, level 3 cached -> 3 accesses
    expect(iommu.translate(0, 512 * 512)).toBe(HIT + 3 * LEVEL);
    // page 2^27 = 512^3: nothing cached -> 4 accesses
    expect(iommu.translate(0, 512 ** 3)).toBe(HIT + 4 * LEVEL);
    expect(iommu.walkAccesses).toBe(4 + 1 + 2 + 3 + 4);
  });

  it('works for page numbers beyond 32 bits', () => {
    const iommu = new Iommu(config());
    const page = 2 ** 40 + 7;
    expect(iommu.translate(0, page)).toBe(HIT + 4 * LEVEL);
    // the neighbour shares its level-1 entry
    expect(iommu.translate(0, page + 1)).toBe(HIT + LEVEL);
  });

  it('walks queue for a free walker', () => {
    const iommu = new Iommu(config({ walkers: 1 }));
    expect(iommu.translate(0, 0)).toBe(363_000);
    // Unrelated page (no shared walk-cache entry): starts when the only walker frees at 363 ns.
    expect(iommu.translate(0, 512 ** 3)).toBe(363_000 + 4 * LEVEL);
    expect(iommu.walkQueuePs).toBe(360_000);
    // With the default 16 walkers both run at once.
    const wide = new Iommu(config());
    wide.translate(0, 0);
    expect(wide.translate(0, 512 ** 3)).toBe(363_000);
  });

  it('passthrough costs nothing', () => {
    const iommu = new Iommu(config({ mode: 'passthrough' }));
    expect(iommu.translate(1234, 5)).toBe(1234);
    expect(iommu.invalidatePages(1234, 0, 10)).toBe(1234);
    expect([iommu.iotlbHits, iommu.iotlbMisses, iommu.invalidations]).toEqual([0, 0, 0]);
  });
});

describe('Iommu.invalidatePages', () => {
  it('queues one command per page and a sync', () => {
    const iommu = new Iommu(config());
    for (let p = 0; p < 10; p++) iommu.translate(0, p);
    // 4 x 30 ns + 1000 ns sync = 1120 ns
    expect(iommu.invalidatePages(0, 0, 4)).toBe(1_120_000);
    // A second invalidation waits for the first: 2 x 30 + 1000 ns after 1120 ns.
    expect(iommu.invalidatePages(0, 100, 2)).toBe(1_120_000 + 1_060_000);
    expect(iommu.iotlb.probe(3)).toBe(-1);
    expect(iommu.iotlb.probe(4)).toBe(1);
    expect([iommu.invalidations, iommu.invalidationCommands]).toEqual([2, 6]);
  });

  it('switches to one address-space-wide command at 512 pages', () => {
    const iommu = new Iommu(config());
    iommu.translate(0, 9999);
    // 1 command (30 ns) + sync (1000 ns), and the IOTLB and walk cache are emptied
    expect(iommu.invalidatePages(0, 0, 512)).toBe(1_030_000);
    expect(iommu.fullInvalidations).toBe(1);
    expect(iommu.iotlb.occupancy() + iommu.pwc.occupancy()).toBe(0);
    expect(iommu.translate(2_000_000, 9999)).toBe(2_000_000 + HIT + 4 * LEVEL);
  });
});

describe('Iommu.translateShared (the CPU page table, shared virtual addressing)', () => {
  it('a page the CPU maps with a 2 MiB PMD entry ends the walk one level early and is cached as one 2 MiB entry', () => {
    const iommu = new Iommu(config());
    expect(iommu.translateShared(0, 1024 + 5, true)).toBe(HIT + 3 * LEVEL);
    // Every page of the block hits that entry; the next block misses.
    expect(iommu.translateShared(0, 1024 + 511, true)).toBe(HIT);
    expect(iommu.translateShared(0, 1024, false)).toBe(HIT);
    expect(iommu.iotlb.probe(pmdTag(1024))).toBe(1);
    expect(iommu.iotlb.occupancy()).toBe(1);
    // Block 3 shares the level-2 entry the first walk cached: the PMD access only.
    expect(iommu.translateShared(0, 1536, true)).toBe(HIT + LEVEL);
    // A 4 KiB page in a third block: the level-2 entry is cached, its level-1 entry is not.
    expect(iommu.translateShared(0, 2048, false)).toBe(HIT + 2 * LEVEL);
    expect(iommu.walkAccesses).toBe(3 + 1 + 2);
  });

  it('invalidating any page of a 2 MiB entry drops the whole entry; 4 KiB entries outside the range stay', () => {
    const iommu = new Iommu(config());
    iommu.translateShared(0, 1024, true);
    iommu.translateShared(0, 3000, false);
    iommu.invalidatePages(0, 1024 + 300, 1);
    expect(iommu.iotlb.probe(pmdTag(1024))).toBe(-1);
    expect(iommu.iotlb.probe(3000)).toBe(1);
    // Split: a 4 KiB walk now, whose leaf table no earlier walk read (the PMD was the leaf).
    expect(iommu.translateShared(10_000_000, 1024 + 7, false)).toBe(10_000_000 + HIT + 2 * LEVEL);
  });

  it('a one-level table has no PMD level: its leaves are 4 KiB', () => {
    const iommu = new Iommu(config({ walkLevels: 1 }));
    expect(iommu.translateShared(0, 5, true)).toBe(HIT + LEVEL);
    expect(iommu.iotlb.probe(5)).toBe(1);
  });
});

describe('2 MiB and 4 KiB translations in one cache (the ATC)', () => {
  it('a lookup hits either, counted once; the tags never alias', () => {
    const atc = new Tlb(16, 4);
    atc.insert(pmdTag(512), 3);
    atc.insert(7, 1);
    expect(lookupTranslation(atc, 512 + 100)).toBe(3);
    expect(lookupTranslation(atc, 7)).toBe(1);
    // Page 1 (a 4 KiB tag) is not block 1 (a 2 MiB tag).
    expect(lookupTranslation(atc, 1)).toBe(-1);
    expect([atc.hits, atc.misses]).toEqual([2, 1]);
  });

  it('invalidateTranslations drops every 2 MiB entry the range touches and the 4 KiB entries in it', () => {
    const atc = new Tlb(16, 4);
    for (const block of [0, 1, 2, 3]) atc.insert(pmdTag(block * 512), 3);
    atc.insert(600, 1);
    atc.insert(2000, 1);
    // Pages 1023..1025: the last page of block 1 and the first two of block 2.
    expect(invalidateTranslations(atc, 1023, 3)).toBe(2);
    expect([0, 1, 2, 3].map((b) => atc.probe(pmdTag(b * 512)))).toEqual([3, -1, -1, 3]);
    expect(invalidateTranslations(atc, 600, 1)).toBe(1);
    expect(atc.probe(2000)).toBe(1);
    expect(invalidateTranslations(atc, 0, 0)).toBe(0);
  });
});

describe('createAtc', () => {
  it('exists only with ATS on and translation on', () => {
    expect(createAtc(config())).toBeNull();
    const atc = createAtc(config({ ats: { enabled: true } }));
    expect([atc?.entries, atc?.ways]).toEqual([256, 4]);
    expect(createAtc(config({ mode: 'passthrough', ats: { enabled: true } }))).toBeNull();
  });
});
