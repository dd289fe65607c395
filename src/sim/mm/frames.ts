/**
 * The device-memory frame allocator of one device, after the UVM driver's PMM: memory is
 * root chunks of 2 MiB, handed out whole or sub-allocated in 4 KiB frames (frame index =
 * chunk * 512 + slot). All state is in typed arrays sized once by the chunk count (about
 * 90 bytes per chunk: 3.7 MB for 80 GiB); no object per frame or chunk.
 *
 * Invariants:
 * - a chunk is on the free stack exactly when none of its frames is in use;
 * - a chunk is in the partial set exactly when 0 < frames in use < 512;
 * - a chunk is in the LRU list exactly when at least one frame is in use, so victims()
 *   never returns a free chunk. The list is ordered by touch stamp (ties: later touch is
 *   more recent).
 *
 * Stamps are the caller's clock (simulated time). Allocating is a touch: at the stamp
 * passed to allocChunk/allocFrame, or by default at the latest stamp seen so far, which
 * makes the new chunk the most recently used.
 */

export const CHUNK_BYTES = 2 * 1024 * 1024;
export const FRAME_BYTES = 4096;
export const FRAMES_PER_CHUNK = CHUNK_BYTES / FRAME_BYTES;
const WORDS_PER_CHUNK = FRAMES_PER_CHUNK / 32;
const FULL_WORD = 0xffffffff;

export class FrameAllocator {
  readonly capacityBytes: number;
  readonly chunkCount: number;
  private usedFrames = 0;
  private peakFrames = 0;
  /** The latest stamp seen: the default stamp of an allocation. */
  private clock = 0;

  /** One bit per frame, 16 words per chunk: set = in use. */
  private readonly bitmap: Uint32Array;
  private readonly framesInUse: Uint16Array;
  /** Free chunks, popped from the top (chunk 0 first, so runs read naturally). */
  private readonly freeStack: Int32Array;
  private freeTop: number;
  /** Partly used chunks (an indexed set: swap-remove via `partialAt`, -1 = absent). */
  private readonly partial: Int32Array;
  private readonly partialAt: Int32Array;
  private partialCount = 0;
  /** LRU list over allocated chunks, least recent at `head`; -1 ends it. */
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly stamp: Float64Array;
  private head = -1;
  private tail = -1;

  constructor(capacityBytes: number) {
    if (!Number.isFinite(capacityBytes) || capacityBytes < 0) {
      throw new RangeError(`capacityBytes must be a non-negative number of bytes, got ${capacityBytes}`);
    }
    const chunks = Math.floor(capacityBytes / CHUNK_BYTES);
    this.chunkCount = chunks;
    this.capacityBytes = chunks * CHUNK_BYTES;
    this.bitmap = new Uint32Array(chunks * WORDS_PER_CHUNK);
    this.framesInUse = new Uint16Array(chunks);
    this.freeStack = new Int32Array(chunks);
    for (let i = 0; i < chunks; i++) this.freeStack[i] = chunks - 1 - i;
    this.freeTop = chunks;
    this.partial = new Int32Array(chunks);
    this.partialAt = new Int32Array(chunks).fill(-1);
    this.prev = new Int32Array(chunks).fill(-1);
    this.next = new Int32Array(chunks).fill(-1);
    this.stamp = new Float64Array(chunks);
  }

  get usedBytes(): number {
    return this.usedFrames * FRAME_BYTES;
  }

  get freeBytes(): number {
    return this.capacityBytes - this.usedBytes;
  }

  /** The most bytes ever in use at once. */
  get peakBytes(): number {
    return this.peakFrames * FRAME_BYTES;
  }

  /** A whole free 2 MiB chunk, or -1 when none is free (even if frames are). */
  allocChunk(stamp = this.clock): number {
    this.checkStamp(stamp);
    if (this.freeTop === 0) return -1;
    const chunk = this.freeStack[--this.freeTop];
    this.bitmap.fill(FULL_WORD, chunk * WORDS_PER_CHUNK, (chunk + 1) * WORDS_PER_CHUNK);
    this.framesInUse[chunk] = FRAMES_PER_CHUNK;
    this.addUsed(FRAMES_PER_CHUNK);
    this.link(chunk, stamp);
    return chunk;
  }

  /** One 4 KiB frame, from a partly used chunk when there is one (so frames pack); -1 when full. */
  allocFrame(stamp = this.clock): number {
    this.checkStamp(stamp);
    let chunk: number;
    if (this.partialCount > 0) {
      chunk = this.partial[this.partialCount - 1];
      this.unlink(chunk);
    } else if (this.freeTop > 0) {
      chunk = this.freeStack[--this.freeTop];
      this.addPartial(chunk);
    } else {
      return -1;
    }
    const base = chunk * WORDS_PER_CHUNK;
    let w = 0;
    while (this.bitmap[base + w] === FULL_WORD) w++;
    const word = this.bitmap[base + w];
    const bit = 31 - Math.clz32(~word & (word + 1)); // lowest clear bit
    this.bitmap[base + w] = word | (1 << bit);
    if (++this.framesInUse[chunk] === FRAMES_PER_CHUNK) this.removePartial(chunk);
    this.addUsed(1);
    this.link(chunk, stamp);
    return chunk * FRAMES_PER_CHUNK + w * 32 + bit;
  }

  freeFrame(frame: number): void {
    if (!Number.isInteger(frame) || frame < 0 || frame >= this.chunkCount * FRAMES_PER_CHUNK) {
      throw new RangeError(`frame must be an integer in [0, ${this.chunkCount * FRAMES_PER_CHUNK}), got ${frame}`);
    }
    const chunk = Math.floor(frame / FRAMES_PER_CHUNK);
    const slot = frame % FRAMES_PER_CHUNK;
    const at = chunk * WORDS_PER_CHUNK + (slot >>> 5);
    const mask = 1 << (slot & 31);
    if ((this.bitmap[at] & mask) === 0) {
      throw new RangeError(`double free: frame ${frame} (chunk ${chunk}, slot ${slot}) is not allocated`);
    }
    this.bitmap[at] &= ~mask;
    this.usedFrames--;
    const left = --this.framesInUse[chunk];
    if (left === FRAMES_PER_CHUNK - 1) this.addPartial(chunk);
    if (left === 0) this.release(chunk);
  }

  /** Frees every frame of `chunk` still in use, whether it was allocated whole or frame by frame. */
  freeChunk(chunk: number): void {
    this.checkChunk(chunk);
    const inUse = this.framesInUse[chunk];
    if (inUse === 0) throw new RangeError(`double free: chunk ${chunk} has no frame allocated`);
    this.bitmap.fill(0, chunk * WORDS_PER_CHUNK, (chunk + 1) * WORDS_PER_CHUNK);
    this.usedFrames -= inUse;
    this.framesInUse[chunk] = 0;
    this.release(chunk);
  }

  /** Frames of `chunk` in use (0 to 512). */
  framesUsedIn(chunk: number): number {
    this.checkChunk(chunk);
    return this.framesInUse[chunk];
  }

  /** Marks an allocated chunk used at `stamp` (the caller's clock, usually simulated time). */
  touch(chunk: number, stamp: number): void {
    this.checkChunk(chunk);
    this.checkStamp(stamp);
    if (this.framesInUse[chunk] === 0) throw new RangeError(`touch of chunk ${chunk}, which is free`);
    this.unlink(chunk);
    this.link(chunk, stamp);
  }

  /** Up to n allocated chunks, least recently touched first (fewer when fewer are allocated). */
  victims(n: number): number[] {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`victims(n): n must be a non-negative integer, got ${n}`);
    const out: number[] = [];
    for (let c = this.head; c !== -1 && out.length < n; c = this.next[c]) out.push(c);
    return out;
  }

  private addUsed(frames: number): void {
    this.usedFrames += frames;
    if (this.usedFrames > this.peakFrames) this.peakFrames = this.usedFrames;
  }

  /** A chunk whose last frame went: out of the partial set and LRU list, onto the free stack. */
  private release(chunk: number): void {
    if (this.partialAt[chunk] >= 0) this.removePartial(chunk);
    this.unlink(chunk);
    this.freeStack[this.freeTop++] = chunk;
  }

  private addPartial(chunk: number): void {
    this.partialAt[chunk] = this.partialCount;
    this.partial[this.partialCount++] = chunk;
  }

  private removePartial(chunk: number): void {
    const at = this.partialAt[chunk];
    const last = this.partial[--this.partialCount];
    this.partial[at] = last;
    this.partialAt[last] = at;
    this.partialAt[chunk] = -1;
  }

  /**
   * Inserts `chunk` after the last chunk touched at or before `stamp`. Stamps from a
   * clock that never goes back land at the tail at once; an older stamp walks back.
   */
  private link(chunk: number, stamp: number): void {
    if (stamp > this.clock) this.clock = stamp;
    this.stamp[chunk] = stamp;
    let after = this.tail;
    while (after !== -1 && this.stamp[after] > stamp) after = this.prev[after];
    const before = after === -1 ? this.head : this.next[after];
    this.prev[chunk] = after;
    this.next[chunk] = before;
    if (after === -1) this.head = chunk;
    else this.next[after] = chunk;
    if (before === -1) this.tail = chunk;
    else this.prev[before] = chunk;
  }

  private unlink(chunk: number): void {
    const p = this.prev[chunk];
    const n = this.next[chunk];
    if (p === -1) this.head = n;
    else this.next[p] = n;
    if (n === -1) this.tail = p;
    else this.prev[n] = p;
    this.prev[chunk] = -1;
    this.next[chunk] = -1;
  }

  private checkChunk(chunk: number): void {
    if (!Number.isInteger(chunk) || chunk < 0 || chunk >= this.chunkCount) {
      throw new RangeError(`chunk must be an integer in [0, ${this.chunkCount}), got ${chunk}`);
    }
  }

  private checkStamp(stamp: number): void {
    if (!Number.isFinite(stamp)) throw new RangeError(`stamp must be a finite number, got ${stamp}`);
  }
}
