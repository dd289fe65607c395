/**
 * Where each 4 KiB page's data lives: one record per page, read by the access paths and
 * written by the driver. `where` is a bit mask: bit 0 system memory, bit 1 + d device d
 * (several bits: replicated, as a read-mostly page or an explicit-copy buffer object with
 * its host copy). A page on a device also has the device frame that holds it there.
 *
 * The device's page-table entry says whether the device reaches the page locally or over
 * the link (its aperture, DEV_LOCAL); this record says which frame. Memory grows with the
 * pages placed, not with the address space (paged tables).
 */
import { PagedTable } from '../engine/paged-table.js';
import { PAGE_BYTES } from './page-state.js';

export const IN_SYSTEM = 1;

export function onDevice(device: number): number {
  return 2 << device;
}

export class Residency {
  private readonly where: PagedTable;
  private readonly frames: PagedTable[];

  constructor(devices: number) {
    // Untouched pages are in system memory (anonymous memory is allocated there first).
    this.where = new PagedTable(Uint16Array, 0, IN_SYSTEM);
    this.frames = Array.from({ length: devices }, () => new PagedTable(Int32Array, 0, -1));
  }

  /** The frame of `page` on device `device`, or -1 when the device holds no copy. */
  frame(device: number, page: number): number {
    return this.frames[device].get(page);
  }

  /** Device-memory address of byte `offsetInPage` of `page` on `device`. */
  deviceAddress(device: number, page: number, offsetInPage: number): number {
    return this.frames[device].get(page) * PAGE_BYTES + offsetInPage;
  }

  /** Records that `device` holds a copy of `page` in `frame` (the other copies stay). */
  addDeviceCopy(device: number, page: number, frame: number): void {
    this.frames[device].set(page, frame);
    this.where.set(page, this.where.get(page) | onDevice(device));
  }

  /** A device other than `device` that holds a copy of `page` (the lowest-numbered), or -1. */
  holderOtherThan(page: number, device: number): number {
    const devices = (this.where.get(page) >> 1) & ~(1 << device);
    return devices === 0 ? -1 : 31 - Math.clz32(devices & -devices);
  }

  /** True when system memory holds the page's data (false once it migrated to a device). */
  inSystem(page: number): boolean {
    return (this.where.get(page) & IN_SYSTEM) !== 0;
  }

  /** Records whether system memory holds the page's data. */
  setInSystem(page: number, inSystem: boolean): void {
    const where = this.where.get(page);
    this.where.set(page, inSystem ? where | IN_SYSTEM : where & ~IN_SYSTEM);
  }

  /** Drops device `device`'s copy of `page`; returns the frame it held (-1 if none). */
  dropDeviceCopy(device: number, page: number): number {
    const frame = this.frames[device].get(page);
    this.frames[device].set(page, -1);
    this.where.set(page, this.where.get(page) & ~onDevice(device));
    return frame;
  }
}
