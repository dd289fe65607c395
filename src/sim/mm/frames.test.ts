import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CHUNK_BYTES, FRAMES_PER_CHUNK, FRAME_BYTES, FrameAllocator } from './frames.js';

type Op =
  | { kind: 'allocFrame' }
  | { kind: 'allocChunk' }
  | { kind: 'freeFrame'; pick: number }
  | { kind: 'freeChunk'; pick: number }
  | { kind: 'touch'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'allocFrame' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'allocChunk' as const }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('freeFrame' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('freeChunk' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('touch' as const), pick: fc.nat() }) },
);

/**
 * The reference model: the set of frames in use and each allocated chunk's last touch
 * (stamp, then touch order), checked after every operation against the allocator.
 */
/** Returns whether the device ran out of frames on the way. */
function run(chunks: number, ops: Op[]): boolean {
  const frames = new FrameAllocator(chunks * CHUNK_BYTES + 12345); // the odd tail is not capacity
  const used = new Set<number>();
  const lastTouch = new Map<number, [number, number]>(); // chunk -> [stamp, order]
  let order = 0;
  let time = 0;
  const perChunk = new Map<number, number>();
  const inChunk = (c: number) => perChunk.get(c) ?? 0;
  const use = (f: number) => {
    used.add(f);
    perChunk.set(Math.floor(f / FRAMES_PER_CHUNK), inChunk(Math.floor(f / FRAMES_PER_CHUNK)) + 1);
  };
  const unuse = (f: number) => {
    if (used.delete(f)) perChunk.set(Math.floor(f / FRAMES_PER_CHUNK), inChunk(Math.floor(f / FRAMES_PER_CHUNK)) - 1);
  };
  let exhausted = false;
  const allocated = () => [...lastTouch.keys()];
  for (const op of ops) {
    time += 3;
    if (op.kind === 'allocFrame') {
      const partialBefore = allocated().filter((c) => inChunk(c) < FRAMES_PER_CHUNK);
      const f = frames.allocFrame(time);
      if (used.size === chunks * FRAMES_PER_CHUNK) {
        expect(f).toBe(-1);
        exhausted = true;
        continue;
      }
      expect(used.has(f), `frame ${f} handed out twice`).toBe(false);
      const c = Math.floor(f / FRAMES_PER_CHUNK);
      // Packing: a partly used chunk is used before a free one.
      if (partialBefore.length > 0) expect(partialBefore).toContain(c);
      use(f);
      lastTouch.set(c, [time, order++]);
    } else if (op.kind === 'allocChunk') {
      const c = frames.allocChunk(time);
      const free = Array.from({ length: chunks }, (_, i) => i).filter((i) => !lastTouch.has(i));
      if (free.length === 0) {
        expect(c).toBe(-1);
        continue;
      }
      expect(free).toContain(c);
      for (let s = 0; s < FRAMES_PER_CHUNK; s++) use(c * FRAMES_PER_CHUNK + s);
      lastTouch.set(c, [time, order++]);
    } else if (op.kind === 'freeFrame') {
      if (used.size === 0) continue;
      const f = [...used][op.pick % used.size];
      frames.freeFrame(f);
      unuse(f);
      const c = Math.floor(f / FRAMES_PER_CHUNK);
      if (inChunk(c) === 0) lastTouch.delete(c);
      expect(() => frames.freeFrame(f)).toThrow(new RegExp(`double free: frame ${f} `));
    } else if (op.kind === 'freeChunk') {
      if (lastTouch.size === 0) continue;
      const c = allocated()[op.pick % lastTouch.size];
      frames.freeChunk(c);
      for (let s = 0; s < FRAMES_PER_CHUNK; s++) unuse(c * FRAMES_PER_CHUNK + s);
      lastTouch.delete(c);
    } else {
      if (lastTouch.size === 0) continue;
      const c = allocated()[op.pick % lastTouch.size];
      // Stamps usually move forward; sometimes a late report of an earlier touch.
      const stamp = op.pick % 4 === 0 ? time - 10 : time;
      frames.touch(c, stamp);
      lastTouch.set(c, [stamp, order++]);
    }
    expect(frames.usedBytes).toBe(used.size * FRAME_BYTES);
    expect(frames.freeBytes).toBe(frames.capacityBytes - used.size * FRAME_BYTES);
    const lru = allocated().sort(
      (a, b) => lastTouch.get(a)![0] - lastTouch.get(b)![0] || lastTouch.get(a)![1] - lastTouch.get(b)![1],
    );
    expect(frames.victims(chunks + 1)).toEqual(lru);
    expect(frames.victims(1)).toEqual(lru.slice(0, 1));
  }
  return exhausted;
}

describe('FrameAllocator', () => {
  it('matches a reference model under random alloc, free and touch (seed 42)', () => {
    const ops = fc.array(opArb, { maxLength: 200 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), ops, (chunks, list) => {
        run(chunks, list);
      }),
      { seed: 42, numRuns: 150 },
    );
  });

  it('matches the model through exhaustion of a one-chunk device (seed 42)', () => {
    // Mostly allocations, so the device fills; no freeChunk, which would empty it at once.
    const allocHeavy = fc.oneof(
      { weight: 14, arbitrary: opArb.filter((o) => o.kind === 'allocFrame') },
      { weight: 1, arbitrary: opArb.filter((o) => o.kind !== 'allocFrame' && o.kind !== 'freeChunk') },
    );
    let exhaustedRuns = 0;
    fc.assert(
      fc.property(fc.array(allocHeavy, { minLength: 800, maxLength: 1000 }), (ops) => {
        if (run(1, ops)) exhaustedRuns++;
      }),
      { seed: 42, numRuns: 15 },
    );
    expect(exhaustedRuns).toBeGreaterThan(5);
  });

  it('packs 4 KiB frames into one chunk before starting another', () => {
    const frames = new FrameAllocator(4 * CHUNK_BYTES);
    const got = Array.from({ length: FRAMES_PER_CHUNK + 1 }, () => frames.allocFrame());
    expect(got.slice(0, FRAMES_PER_CHUNK)).toEqual(Array.from({ length: FRAMES_PER_CHUNK }, (_, i) => i));
    expect(got[FRAMES_PER_CHUNK]).toBe(FRAMES_PER_CHUNK); // chunk 1, slot 0
    frames.freeFrame(77);
    expect(frames.allocFrame()).toBe(77); // the chunk most recently made partial is filled first
  });

  it('returns -1 when full, and freeing makes room again (mmap, munmap, mmap)', () => {
    const frames = new FrameAllocator(2 * CHUNK_BYTES + CHUNK_BYTES - 1);
    expect(frames.capacityBytes).toBe(2 * CHUNK_BYTES);
    // mmap the whole device: one chunk whole, the other frame by frame.
    const whole = frames.allocChunk();
    const small = Array.from({ length: FRAMES_PER_CHUNK }, () => frames.allocFrame());
    expect(small.every((f) => f >= 0)).toBe(true);
    expect([frames.allocFrame(), frames.allocChunk()]).toEqual([-1, -1]);
    expect(frames.freeBytes).toBe(0);
    expect(frames.peakBytes).toBe(2 * CHUNK_BYTES);
    // munmap the small buffer: its chunk becomes free, so a whole chunk fits again.
    for (const f of small) frames.freeFrame(f);
    expect(frames.victims(5)).toEqual([whole]);
    expect(frames.allocChunk()).toBeGreaterThanOrEqual(0);
    expect(frames.allocChunk()).toBe(-1);
    frames.freeChunk(whole);
    expect(frames.allocFrame()).toBeGreaterThanOrEqual(0);
    expect(frames.peakBytes).toBe(2 * CHUNK_BYTES);
    expect(frames.usedBytes).toBe(CHUNK_BYTES + FRAME_BYTES);
  });

  it('a device smaller than one chunk has no capacity', () => {
    const frames = new FrameAllocator(CHUNK_BYTES - 1);
    expect([frames.capacityBytes, frames.allocFrame(), frames.allocChunk()]).toEqual([0, -1, -1]);
    expect(frames.victims(3)).toEqual([]);
  });

  it('victims are allocated chunks in touch order, never free ones', () => {
    const frames = new FrameAllocator(8 * CHUNK_BYTES);
    const a = frames.allocChunk(10);
    const b = frames.allocChunk(20);
    const c = frames.allocChunk(30);
    expect(frames.victims(2)).toEqual([a, b]);
    frames.touch(a, 40);
    expect(frames.victims(10)).toEqual([b, c, a]);
    frames.freeChunk(c);
    expect(frames.victims(10)).toEqual([b, a]);
    // An allocation without a stamp is a touch at the latest stamp seen: most recent.
    const d = frames.allocChunk();
    expect(frames.victims(10)).toEqual([b, a, d]);
    frames.touch(d, 15); // a late report of an earlier touch goes back in line
    expect(frames.victims(10)).toEqual([d, b, a]);
    expect(frames.victims(0)).toEqual([]);
  });

  it('rejects bad input with errors naming it', () => {
    const frames = new FrameAllocator(2 * CHUNK_BYTES);
    const f = frames.allocFrame();
    frames.freeFrame(f);
    expect(() => frames.freeFrame(f)).toThrow(/double free: frame 0 \(chunk 0, slot 0\) is not allocated/);
    expect(() => frames.freeFrame(2 * FRAMES_PER_CHUNK)).toThrow(/frame must be an integer in \[0, 1024\), got 1024/);
    expect(() => frames.freeChunk(1)).toThrow(/double free: chunk 1 has no frame allocated/);
    expect(() => frames.freeChunk(2)).toThrow(/chunk must be an integer in \[0, 2\), got 2/);
    expect(() => frames.touch(0, 5)).toThrow(/touch of chunk 0, which is free/);
    expect(() => frames.allocChunk(NaN)).toThrow(/stamp must be a finite number, got NaN/);
    expect(() => frames.victims(-1)).toThrow(/n must be a non-negative integer, got -1/);
    expect(() => new FrameAllocator(-1)).toThrow(/capacityBytes must be a non-negative number of bytes, got -1/);
    expect(frames.usedBytes).toBe(0);
  });

  it('an 80 GiB device (40960 chunks) fills completely', () => {
    const frames = new FrameAllocator(80 * 2 ** 30);
    expect(frames.chunkCount).toBe(40960);
    let n = 0;
    while (frames.allocChunk(n) >= 0) n++;
    expect(n).toBe(40960);
    expect(frames.victims(3)).toEqual([0, 1, 2]);
    expect(frames.usedBytes).toBe(80 * 2 ** 30);
  });
});
