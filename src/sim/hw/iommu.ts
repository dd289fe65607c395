/**
 * The IOMMU between the device and host memory: IOTLB, page-walk cache, table walkers, the
 * invalidation command queue, and the parameters of ATS and PRI.
 *
 * translate(): an IOTLB hit costs a fixed lookup latency. A miss walks the page table:
 * `walkLevels` memory accesses, minus those the page-walk cache (PWC) saves. The PWC holds
 * non-leaf entries keyed by the page number shifted right by 9 bits per level (level 1: the
 * entry that points to the leaf table, covering 512 pages; level 2: 512^2 pages; ...). The
 * deepest hit decides how many accesses remain; every level the walk fetched is then cached.
 * Walks run on `walkers` parallel walkers, each a FCFS resource, so a burst of misses queues.
 *
 * invalidatePages(): one invalidate-by-address command per page into a serial command queue,
 * then a sync that waits for completion; at `asidInvalidateAtPages` pages or more, a single
 * address-space-wide command replaces the per-page ones (as Linux arm-smmu-v3 does), which
 * also empties the IOTLB and the walk cache.
 *
 * translateShared(): the same, for shared virtual addressing, where the IOMMU walks the CPU's
 * own page table: a page the CPU maps with a 2 MiB PMD entry (a transparent huge page) ends
 * the walk one level early and is cached as one 2 MiB IOTLB entry. DMA-API mappings
 * (translate()) are always 4 KiB.
 *
 * The device-side ATC is a plain Tlb (createAtc) holding 4 KiB and 2 MiB translations
 * tagged apart (pmdTag); ATS translation requests and completions and ATS invalidations
 * travel over the link, which the IOMMU does not hold: the machine composes link messages
 * with translate() / invalidatePages().
 *
 * Simplifications: one address space (no PASID or stream tags in the IOTLB); a flush is global;
 * PWC lookups cost no time beyond the IOTLB lookup; no prefetching.
 */
import type { z } from 'zod';
import { bool, num, obj, oneOf } from '../schema/fields.js';
import { nsToPs, type Ps } from '../engine/time.js';
import { BandwidthServer } from './bandwidth-server.js';
import { Tlb, tlbSchemaWith } from './tlb.js';

/** Entries in one page-table page (8-byte entries in 4 KiB): each level resolves 9 bits of the page number. */
const ENTRIES_PER_TABLE = 512;
const LEVEL_BITS = Math.log2(ENTRIES_PER_TABLE);
/** 4 KiB pages one 2 MiB (PMD-level) translation covers. */
export const PMD_PAGES = ENTRIES_PER_TABLE;
/**
 * IOTLB and ATC tags: a 4 KiB translation is tagged with its page number, a 2 MiB one with
 * PMD_TAG_BASE + its 2 MiB block number, so both live in one cache without aliasing (page
 * numbers stay below 2^40). The base is a power of two: a block's set is its number modulo the sets.
 */
export const PMD_TAG_BASE = 2 ** 45;

/** The tag of the 2 MiB translation that covers 4 KiB page `page`. */
export function pmdTag(page: number): number {
  return PMD_TAG_BASE + (page - (page % PMD_PAGES)) / PMD_PAGES;
}

/**
 * Looks `page` up in a cache that may hold 2 MiB translations (IOTLB or ATC under shared
 * virtual addressing): one lookup, counted once, that hits on the page's 2 MiB entry or
 * its 4 KiB entry. Returns the entry's flags or -1.
 */
export function lookupTranslation(cache: Tlb, page: number): number {
  return cache.lookupEither(pmdTag(page), page);
}

/**
 * Drops every translation, 4 KiB or 2 MiB, that covers any page of firstPage ..
 * firstPage + count - 1: a change to one page of a 2 MiB entry drops the whole entry.
 * Returns how many entries went.
 */
export function invalidateTranslations(cache: Tlb, firstPage: number, count: number): number {
  if (count <= 0) return 0;
  const firstBlock = pmdTag(firstPage);
  const blocks = pmdTag(firstPage + count - 1) - firstBlock + 1;
  return cache.invalidateRange(firstPage, count) + cache.invalidateRange(firstBlock, blocks);
}

export const iommuSchema = obj(
  {
    mode: oneOf(
      ['translate', 'passthrough'],
      'an IOMMU mode',
      '"translate": DMA addresses are translated through the IOTLB and the I/O page table. "passthrough": DMA addresses are physical (iommu=pt), no IOTLB, no walks, no invalidation cost.',
    ).default('translate'),
    iotlb: tlbSchemaWith(
      { entries: 2048, ways: 4 },
      "The IOTLB. Default 2048 entries, 4-way: the main TLB of gem5's SMMUv3 model (tlb_entries 2048, tlb_assoc 4).",
    ).prefault({}),
    iotlbHitNs: num('IOTLB lookup latency on a hit, in ns. Default 3: gem5 SMMUv3 tlb_lat of 3 cycles, at 1 GHz.', {
      min: 0,
      max: 1e6,
    }).default(3),
    pageWalkCache: tlbSchemaWith(
      { entries: 384, ways: 4 },
      "The page-walk cache for non-leaf entries of all levels. Default 384 entries, 4-way: about the sum of gem5 SMMUv3's stage-1 walk caches for levels 0-2 (4 + 28 + 348 entries, walk_assoc 4).",
    ).prefault({}),
    walkLevels: num('Page-table levels a walk reads: 4 for a 48-bit address space with 4 KiB pages, 5 with LA57.', {
      int: true,
      min: 1,
      max: 6,
    }).default(4),
    walkLevelLatencyNs: num(
      'Latency of one page-table memory access during a walk, in ns. Default 90: one host DRAM access (hardware.cpu.memory.latencyNs); lower it if walks hit in a shared cache.',
      { min: 0, max: 1e6 },
    ).default(90),
    walkers: num('Page-table walks that can proceed in parallel. Default 16: gem5 SMMUv3 ptw_slots.', {
      int: true,
      min: 1,
      max: 1024,
    }).default(16),
    ats: obj(
      {
        enabled: bool(
          'Address Translation Services (PCIe ATS): the device caches translations in its ATC and asks the IOMMU on a miss with a translation request over the link. Default off.',
        ).default(false),
        atcEntries: num(
          'ATC entries. Default 256: an assumption; the ATS specification leaves the ATC size to the device.',
          { int: true, min: 1, max: 1 << 20 },
        ).default(256),
        atcWays: num('ATC associativity; atcEntries must be a multiple of it. Default 4 (assumption).', {
          int: true,
          min: 1,
          max: 1 << 20,
        }).default(4),
      },
      "Address Translation Services and the device's Address Translation Cache (ATC).",
    )
      .superRefine((v, ctx) => {
        if (v.atcEntries % v.atcWays !== 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['atcEntries'],
            message: `${v.atcEntries} entries is not a multiple of ${v.atcWays} ways`,
          });
        }
      })
      .prefault({}),
    pri: obj(
      {
        queueDepth: num(
          'Outstanding page requests the device may have (PRI Outstanding Page Request Allocation). Default 32: what Linux amd_iommu_v2 and older intel-iommu passed to pci_enable_pri(); current intel-iommu passes PRQ_DEPTH = 2048.',
          { int: true, min: 1, max: 65536 },
        ).default(32),
        pageRequestLatencyNs: num(
          "From a page request reaching the IOMMU to the OS fault handler starting on it (page request queue write, interrupt, I/O page fault work queue), in ns; the fault service itself is the mm layer's cost. Default 5000: an assumption of a few microseconds.",
          { min: 0, max: 1e9 },
        ).default(5000),
      },
      'Page Request Interface (PCIe PRI): recoverable device faults on unmapped pages, used by the ats-sva strategy.',
    ).prefault({}),
    invalidation: obj(
      {
        commandNs: num('Cost of one invalidation command in the IOMMU command queue, in ns (assumption).', {
          min: 0,
          max: 1e9,
        }).default(30),
        syncNs: num(
          'Cost of the sync that waits for queued invalidations to complete (CMD_SYNC on SMMUv3, wait descriptor on VT-d), in ns (assumption: about a microsecond).',
          { min: 0, max: 1e9 },
        ).default(1000),
        asidInvalidateAtPages: num(
          'From this many pages on, one address-space-wide invalidation replaces per-page commands. Default 512: Linux arm-smmu-v3 CMDQ_MAX_TLBI_OPS = 1 << (PAGE_SHIFT - 3) for 4 KiB pages (commit d5afb4b47e13, v6.6).',
          { int: true, min: 1, max: 1 << 30 },
        ).default(512),
      },
      'The IOMMU invalidation queue.',
    ).prefault({}),
  },
  'The IOMMU: IOTLB, page-walk cache, walkers, ATS, PRI and invalidation. gem5 SMMUv3 defaults where they exist.',
);
export type IommuConfig = z.infer<typeof iommuSchema>;

export class Iommu {
  readonly passthrough: boolean;
  readonly iotlb: Tlb;
  readonly pwc: Tlb;
  readonly walkLevels: number;
  readonly hitPs: Ps;
  readonly levelPs: Ps;
  readonly commandPs: Ps;
  readonly syncPs: Ps;
  readonly asidInvalidateAtPages: number;
  /** PRI parameters, for the strategy that services page requests. */
  readonly priQueueDepth: number;
  readonly pageRequestPs: Ps;

  walks = 0;
  /** Page-table memory accesses made by walks. */
  walkAccesses = 0;
  /** Time walks waited for a free walker. */
  walkQueuePs: Ps = 0;
  /** invalidatePages calls (each ends in a sync). */
  invalidations = 0;
  invalidationCommands = 0;
  /** invalidatePages calls that used one address-space-wide command. */
  fullInvalidations = 0;

  private readonly walkers: BandwidthServer[];
  /** Each walker's last booked end, for choosing one without a call per walker. */
  private readonly walkerFreeAt: Float64Array;
  private commandQueueFreePs: Ps = 0;

  constructor(config: IommuConfig) {
    this.passthrough = config.mode === 'passthrough';
    this.iotlb = new Tlb(config.iotlb.entries, config.iotlb.ways);
    this.pwc = new Tlb(config.pageWalkCache.entries, config.pageWalkCache.ways);
    this.walkLevels = config.walkLevels;
    this.hitPs = nsToPs(config.iotlbHitNs);
    this.levelPs = nsToPs(config.walkLevelLatencyNs);
    this.commandPs = nsToPs(config.invalidation.commandNs);
    this.syncPs = nsToPs(config.invalidation.syncNs);
    this.asidInvalidateAtPages = config.invalidation.asidInvalidateAtPages;
    this.priQueueDepth = config.pri.queueDepth;
    this.pageRequestPs = nsToPs(config.pri.pageRequestLatencyNs);
    this.walkers = Array.from({ length: config.walkers }, () => new BandwidthServer(1000));
    this.walkerFreeAt = new Float64Array(config.walkers);
  }

  /** The walkers' calendars (for the machine to attach its clock). */
  get servers(): readonly BandwidthServer[] {
    return this.walkers;
  }

  get iotlbHits(): number {
    return this.iotlb.hits;
  }

  get iotlbMisses(): number {
    return this.iotlb.misses;
  }

  /** Time at which the translation of `page` (a 4 KiB DMA-API mapping), requested at `t`, is ready. */
  translate(t: Ps, page: number): Ps {
    if (this.passthrough) return t;
    const looked = t + this.hitPs;
    if (this.iotlb.lookup(page) >= 0) return looked;
    const end = this.walk(looked, page, 0);
    this.iotlb.insert(page, 1);
    return end;
  }

  /**
   * Time at which the translation of `page` in the CPU's page table (shared virtual
   * addressing), requested at `t`, is ready. `huge`: the CPU maps the page with a 2 MiB
   * PMD entry, where the walk ends one level early; the IOTLB then holds one 2 MiB entry.
   */
  translateShared(t: Ps, page: number, huge: boolean): Ps {
    if (this.passthrough) return t;
    const looked = t + this.hitPs;
    if (lookupTranslation(this.iotlb, page) >= 0) return looked;
    // A one-level table has no PMD level: its leaves are 4 KiB.
    const pmd = huge && this.walkLevels > 1;
    const end = this.walk(looked, page, pmd ? 1 : 0);
    this.iotlb.insert(pmd ? pmdTag(page) : page, 1);
    return end;
  }

  /** A walk to the leaf at level `leafLevel` (0: a 4 KiB PTE, 1: a 2 MiB PMD entry). */
  private walk(t: Ps, page: number, leafLevel: number): Ps {
    const levels = this.walkLevels;
    // Deepest cached non-leaf entry above the leaf: a hit at level L leaves L - leafLevel
    // accesses (the levels below it and the leaf).
    let hitLevel = levels;
    for (let level = leafLevel + 1; level < levels; level++) {
      if (this.pwc.lookup(pwcKey(page, level)) >= 0) {
        hitLevel = level;
        break;
      }
    }
    const accesses = hitLevel - leafLevel;
    for (let level = leafLevel + 1; level < hitLevel; level++) this.pwc.insert(pwcKey(page, level), 1);

    // A walker idle at t if there is one, else the one free soonest; each keeps a calendar,
    // so a walk booked for later does not hold up one requested earlier.
    const freeAt = this.walkerFreeAt;
    let walker = 0;
    for (let i = 0; i < freeAt.length; i++) {
      if (freeAt[i] <= t) {
        walker = i;
        break;
      }
      if (freeAt[i] < freeAt[walker]) walker = i;
    }
    const duration = accesses * this.levelPs;
    const end = this.walkers[walker].occupy(t, duration);
    freeAt[walker] = this.walkers[walker].nextFreePs;
    this.walks++;
    this.walkAccesses += accesses;
    this.walkQueuePs += end - duration - t;
    return end;
  }

  /**
   * Invalidates the IOTLB entries of pages firstPage .. firstPage + count - 1; returns when the
   * sync completes. Commands queue behind earlier invalidations.
   */
  invalidatePages(t: Ps, firstPage: number, count: number): Ps {
    if (this.passthrough || count <= 0) return t;
    const wide = count >= this.asidInvalidateAtPages;
    const commands = wide ? 1 : count;
    const start = t > this.commandQueueFreePs ? t : this.commandQueueFreePs;
    const end = start + commands * this.commandPs + this.syncPs;
    this.commandQueueFreePs = end;
    if (wide) {
      this.iotlb.flush();
      this.pwc.flush();
      this.fullInvalidations++;
    } else {
      invalidateTranslations(this.iotlb, firstPage, count);
    }
    this.invalidations++;
    this.invalidationCommands += commands;
    return end;
  }

  /** Invalidates the IOTLB entries of scattered `keys` (peer mappings): a command each, then a sync. */
  invalidateKeys(t: Ps, keys: readonly number[]): Ps {
    if (this.passthrough || keys.length === 0) return t;
    const start = t > this.commandQueueFreePs ? t : this.commandQueueFreePs;
    const end = start + keys.length * this.commandPs + this.syncPs;
    this.commandQueueFreePs = end;
    for (const key of keys) this.iotlb.invalidateRange(key, 1);
    this.invalidations++;
    this.invalidationCommands += keys.length;
    return end;
  }
}

/** Walk-cache key of the level-`level` entry covering `page` (512^level pages). The level tag keeps levels apart. */
function pwcKey(page: number, level: number): number {
  const shift = LEVEL_BITS * level;
  // An integer shift when both fit 32 bits; exact division by the power of two otherwise.
  const entry = page <= 0x7fffffff && shift < 32 ? page >> shift : Math.floor(page / 2 ** shift);
  return entry * 8 + level;
}

/** The device's ATC when ATS is on (and the IOMMU translates), else null. */
export function createAtc(config: IommuConfig): Tlb | null {
  if (config.mode !== 'translate' || !config.ats.enabled) return null;
  return new Tlb(config.ats.atcEntries, config.ats.atcWays);
}
