/**
 * Where each 4 KiB page's data lives: one record per page, read by the access paths and
 * written by the driver. `where` is a bit mask: bit 0 system memory, bit 1 + d device d
 * (several bits: replicated, as a read-mostly page or an explicit-copy buffer object with
 * its host copy). A page on a device also has the device frame that holds it there.
 *
 * The device's page-table entry says whether the device reaches the page locally or over
 * the link (its aperture, DEV_LOCAL); this record says which frame.
 */
import { PAGE_BYTES } from './page-state.js';

export const IN_SYSTEM = 1;

export function onDevice(device: number): number {
  return 2 << device;
}

export class Residency {
  private where: Uint16Array;
  private readonly frames: Int32Array[];

  constructor(pages: number, devices: number) {
    // Untouched pages are in system memory (anonymous memory is allocated there first).
    this.where = new Uint16Array(pages).fill(IN_SYSTEM);
    this.frames = Array.from({ length: devices }, () => new Int32Array(pages).fill(-1));
  }

  mask(page: number): number {
    return this.where[page];
  }

  /** The frame of `page` on device `device`, or -1 when the device holds no copy. */
  frame(device: number, page: number): number {
    return this.frames[device][page];
  }

  /** Device-memory address of byte `offsetInPage` of `page` on `device`. */
  deviceAddress(device: number, page: number, offsetInPage: number): number {
    return this.frames[device][page] * PAGE_BYTES + offsetInPage;
  }

  /** Records that `device` holds a copy of `page` in `frame` (the other copies stay). */
  addDeviceCopy(device: number, page: number, frame: number): void {
    this.frames[device][page] = frame;
    this.where[page] |= onDevice(device);
  }

  /** Drops device `device`'s copy of `page`; returns the frame it held (-1 if none). */
  dropDeviceCopy(device: number, page: number): number {
    const frame = this.frames[device][page];
    this.frames[device][page] = -1;
    this.where[page] &= ~onDevice(device);
    return frame;
  }

  setInSystem(page: number, present: boolean): void {
    if (present) this.where[page] |= IN_SYSTEM;
    else this.where[page] &= ~IN_SYSTEM;
  }
}
