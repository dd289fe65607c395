/** One device-memory frame allocator per device (frames.ts), by device index. */
import { FrameAllocator } from './frames.js';

export class FrameAllocators {
  private readonly all: FrameAllocator[];

  constructor(capacities: readonly number[]) {
    this.all = capacities.map((bytes) => new FrameAllocator(bytes));
  }

  of(device: number): FrameAllocator {
    return this.all[device];
  }
}
