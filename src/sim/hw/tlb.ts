/**
 * A set-associative translation cache with LRU replacement: the IOTLB, the IOMMU's page-walk
 * cache, the device's ATC and the device MMU's TLBs are all instances.
 *
 * State lives in flat typed arrays indexed by `set * ways + way`: the tag (the page number,
 * -1 when the slot is empty), 8 bits of flags (permissions or page-size bits, opaque here)
 * and the slot's neighbours in its set's recency list; per set, the list's ends and the
 * number of empty slots. Page numbers reach 2^40 and more, beyond 32-bit integers, so tags
 * are float64 (exact to 2^53) and the set index is `%` on numbers (a mask only for pages
 * below 2^32 and a power-of-two number of sets). Lookups and inserts allocate nothing.
 */
import type { z } from 'zod';
import { num, obj } from '../schema/fields.js';

export interface TlbDefaults {
  entries: number;
  ways: number;
}

/** The fields every TLB-shaped structure has: entries and ways, with their defaults. */
export function tlbGeometry(defaults: TlbDefaults) {
  return {
    entries: num('Number of entries (translations held). Must be a multiple of ways.', {
      int: true,
      min: 1,
      max: 1 << 20,
    }).default(defaults.entries),
    ways: num(
      'Associativity: entries per set. Equal to entries for a fully associative structure (lookups scan every way, so keep fully associative structures small).',
      { int: true, min: 1, max: 1 << 20 },
    ).default(defaults.ways),
  };
}

/** Checks that entries divide into ways (a refinement for schemas built on tlbGeometry). */
export function checkTlbGeometry(v: TlbDefaults, ctx: z.RefinementCtx): void {
  if (v.ways > v.entries) {
    ctx.addIssue({
      code: 'custom',
      path: ['ways'],
      message: `${v.ways} ways is more than the ${v.entries} entries; use at most ${v.entries}`,
    });
  } else if (v.entries % v.ways !== 0) {
    const lower = Math.max(v.ways, v.entries - (v.entries % v.ways));
    ctx.addIssue({
      code: 'custom',
      path: ['entries'],
      message: `${v.entries} entries is not a multiple of ${v.ways} ways; use e.g. ${lower} or ${lower + v.ways}`,
    });
  }
}

/** The schema of a TLB-shaped structure, with its own defaults and description. */
export function tlbSchemaWith(defaults: TlbDefaults, description: string) {
  return obj(tlbGeometry(defaults), description).superRefine(checkTlbGeometry);
}

/**
 * A generic TLB. Default: 32 entries, fully associative, like the per-device micro-TLB of
 * gem5's SMMUv3 model (utlb_entries 32, utlb_assoc 0 = full).
 */
export const tlbSchema = tlbSchemaWith(
  { entries: 32, ways: 32 },
  'A set-associative TLB with LRU replacement. Default: 32 entries, fully associative (gem5 SMMUv3 micro-TLB).',
);
export type TlbConfig = z.infer<typeof tlbSchema>;

const EMPTY = -1;
/** No slot: the end of a recency list. */
const NONE = -1;

export class Tlb {
  readonly entries: number;
  readonly ways: number;
  readonly sets: number;

  private readonly tags: Float64Array;
  private readonly flagBits: Uint8Array;
  /**
   * LRU order as a doubly linked list per set over its valid slots, most recently used at
   * the head: a hit moves its slot to the head and a replacement takes the tail, so neither
   * scans the set for the oldest way (a 16-way set's stamps cost more than its tags).
   */
  private readonly newer: Int32Array;
  private readonly older: Int32Array;
  private readonly mru: Int32Array;
  private readonly lru: Int32Array;
  /** Empty slots per set: an insert looks for one only while there is one. */
  private readonly empties: Int32Array;
  /** sets - 1 when sets is a power of two (the set of a page below 2^32 is then a mask), else -1. */
  private readonly setMask: number;
  /**
   * The set and page of the last lookup that missed, valid while `epoch` (bumped by
   * every change of tags) is unchanged: an insert that follows its miss skips the search
   * for the page, which the miss has just done.
   */
  private missVpn = -1;
  private missSet = 0;
  private missEpoch = -1;
  private epoch = 0;

  hits = 0;
  misses = 0;
  /** Valid entries replaced by an insert. */
  evictions = 0;
  /** Valid entries removed by invalidatePage / invalidateRange / flush. */
  invalidated = 0;

  constructor(entries: number, ways: number) {
    if (!Number.isInteger(entries) || !Number.isInteger(ways) || entries < 1 || ways < 1 || entries % ways !== 0) {
      throw new RangeError(`a TLB needs a whole number of sets: ${entries} entries, ${ways} ways`);
    }
    this.entries = entries;
    this.ways = ways;
    this.sets = entries / ways;
    this.tags = new Float64Array(entries).fill(EMPTY);
    this.flagBits = new Uint8Array(entries);
    this.newer = new Int32Array(entries);
    this.older = new Int32Array(entries);
    this.mru = new Int32Array(this.sets).fill(NONE);
    this.lru = new Int32Array(this.sets).fill(NONE);
    this.empties = new Int32Array(this.sets).fill(ways);
    this.setMask = (this.sets & (this.sets - 1)) === 0 ? this.sets - 1 : -1;
  }

  /** The set of `vpn`. */
  private setOf(vpn: number): number {
    const mask = this.setMask;
    return mask >= 0 && vpn >>> 0 === vpn ? vpn & mask : vpn % this.sets;
  }

  static fromConfig(config: TlbConfig): Tlb {
    return new Tlb(config.entries, config.ways);
  }

  /** Returns the stored flags (0..255) on a hit, -1 on a miss. Counts the outcome and updates LRU. */
  lookup(vpn: number): number {
    const set = this.setOf(vpn);
    const base = set * this.ways;
    const end = base + this.ways;
    const tags = this.tags;
    for (let i = base; i < end; i++) {
      if (tags[i] === vpn) {
        this.touch(set, i);
        this.hits++;
        return this.flagBits[i];
      }
    }
    this.misses++;
    this.missVpn = vpn;
    this.missSet = set;
    this.missEpoch = this.epoch;
    return -1;
  }

  /**
   * Looks up two tags (a large page's and a 4 KiB page's, say) as one lookup: the first
   * that hits wins; one hit or one miss is counted.
   */
  lookupEither(a: number, b: number): number {
    let i = this.find(a);
    let vpn = a;
    if (i < 0) {
      i = this.find(b);
      vpn = b;
    }
    if (i < 0) {
      this.misses++;
      return -1;
    }
    this.touch(this.setOf(vpn), i);
    this.hits++;
    return this.flagBits[i];
  }

  /** Like lookup, but neither counts nor touches LRU: for assertions and snapshots. */
  probe(vpn: number): number {
    const i = this.find(vpn);
    return i < 0 ? -1 : this.flagBits[i];
  }

  /** Installs (or refreshes) a translation, replacing the least recently used way of its set. */
  insert(vpn: number, flags: number): void {
    const tags = this.tags;
    let set: number;
    if (vpn === this.missVpn && this.missEpoch === this.epoch) {
      // Just missed: the page is not in its set.
      set = this.missSet;
    } else {
      set = this.setOf(vpn);
      const i = this.findIn(set, vpn);
      if (i >= 0) {
        this.flagBits[i] = flags;
        this.touch(set, i);
        return;
      }
    }
    this.epoch++;
    let slot: number;
    if (this.empties[set] > 0) {
      slot = set * this.ways;
      while (tags[slot] !== EMPTY) slot++;
      this.empties[set]--;
      this.linkAtHead(set, slot);
    } else {
      slot = this.lru[set];
      this.evictions++;
      this.touch(set, slot);
    }
    tags[slot] = vpn;
    this.flagBits[slot] = flags;
  }

  /** Removes one translation; returns 1 if it was present, else 0. */
  invalidatePage(vpn: number): number {
    const set = this.setOf(vpn);
    const i = this.findIn(set, vpn);
    if (i < 0) return 0;
    this.epoch++;
    this.remove(set, i);
    this.invalidated++;
    return 1;
  }

  /**
   * Removes every translation for pages firstVpn .. firstVpn + count - 1; returns how many
   * were present. Probing page by page costs count * ways comparisons and scanning the whole
   * array costs `entries`, so a range longer than the number of sets is done by a scan:
   * invalidating a 1 GiB range never loops over 262144 pages.
   */
  invalidateRange(firstVpn: number, count: number): number {
    if (count <= 0) return 0;
    let removed = 0;
    if (count > this.sets) {
      this.epoch++;
      const last = firstVpn + count;
      const tags = this.tags;
      const ways = this.ways;
      for (let i = 0; i < this.entries; i++) {
        const tag = tags[i];
        if (tag >= firstVpn && tag < last) {
          this.remove((i - (i % ways)) / ways, i);
          removed++;
        }
      }
      this.invalidated += removed;
      return removed;
    }
    for (let k = 0; k < count; k++) removed += this.invalidatePage(firstVpn + k);
    return removed;
  }

  /** Removes every translation. */
  flush(): void {
    this.epoch++;
    const tags = this.tags;
    for (let i = 0; i < this.entries; i++) {
      if (tags[i] !== EMPTY) {
        tags[i] = EMPTY;
        this.invalidated++;
      }
    }
    this.mru.fill(NONE);
    this.lru.fill(NONE);
    this.empties.fill(this.ways);
  }

  /** Number of valid entries (a scan: for statistics, not the hot path). */
  occupancy(): number {
    let n = 0;
    for (let i = 0; i < this.entries; i++) if (this.tags[i] !== EMPTY) n++;
    return n;
  }

  /** Makes valid slot `i` of `set` the most recently used. */
  private touch(set: number, i: number): void {
    const head = this.mru[set];
    if (head === i) return;
    const newer = this.newer;
    const older = this.older;
    // Not the head, so it has a newer neighbour.
    const n = newer[i];
    const o = older[i];
    older[n] = o;
    if (o === NONE) this.lru[set] = n;
    else newer[o] = n;
    newer[i] = NONE;
    older[i] = head;
    newer[head] = i;
    this.mru[set] = i;
  }

  /** Puts empty slot `i` (about to be filled) at the head of `set`'s list. */
  private linkAtHead(set: number, i: number): void {
    const head = this.mru[set];
    this.newer[i] = NONE;
    this.older[i] = head;
    if (head === NONE) this.lru[set] = i;
    else this.newer[head] = i;
    this.mru[set] = i;
  }

  /** Empties valid slot `i` of `set`. */
  private remove(set: number, i: number): void {
    const n = this.newer[i];
    const o = this.older[i];
    if (n === NONE) this.mru[set] = o;
    else this.older[n] = o;
    if (o === NONE) this.lru[set] = n;
    else this.newer[o] = n;
    this.tags[i] = EMPTY;
    this.empties[set]++;
  }

  private findIn(set: number, vpn: number): number {
    const base = set * this.ways;
    const end = base + this.ways;
    for (let i = base; i < end; i++) if (this.tags[i] === vpn) return i;
    return -1;
  }

  private find(vpn: number): number {
    return this.findIn(this.setOf(vpn), vpn);
  }
}
