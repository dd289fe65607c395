/**
 * Device fault service, one driver loop per device, after the NVIDIA UVM driver
 * (uvm_gpu_replayable_faults.c): faults are filed into the device's fault buffer; the
 * driver wakes after an interrupt and fetches a batch; it drops entries whose page an
 * earlier batch already mapped for the access (they only need the replay), coalesces
 * duplicates, sorts the rest by address and services them 2 MiB VA block by VA block:
 * each distinct (device page, access) is resolved once through the strategy, each block
 * costs its bookkeeping once and gets one page-table update. A device page larger than a
 * VA block (1 GiB) is faulted in 2 MiB block by 2 MiB block, as the drivers service faults
 * per VA block; it is mapped whole once all its blocks agree (device-pte.ts). The mappings are installed
 * at the end of the batch unless a notifier invalidated the range meanwhile
 * (mmu_interval_read_retry), pushed to the device in one write, and the batch's faults
 * are replayed. Faults filed while a batch is serviced wait for the next one. Batches
 * reuse their storage: servicing faults allocates nothing in steady state.
 */
import { errnoOf, OpError } from '../engine/errno.js';
import type { Ps } from '../engine/time.js';
import type { Region } from '../machine/address-space.js';
import { FAULT_SERVICE } from '../machine/contexts.js';
import type { Device } from '../machine/device.js';
import { EV_BATCH_END, EV_BATCH_START, EV_RUN } from '../machine/events.js';
import { CpuPte, DEV_LOCAL, DEV_PEER, DEV_READ, DEV_WRITE } from '../machine/page-state.js';
import type { FaultEntry } from '../machine/fault-buffer.js';
import { breakCowForDeviceWrite } from './cpu-fault.js';
import { VA_BLOCK_PAGES, type Driver } from './driver.js';
import type { DeviceFault, Strategy } from './strategies/types.js';

/** The batch being serviced on one device: its entries, and one resolution per distinct (device page, write). */
class Batch {
  /** Entries of this batch: the first `length` of a pool reused from batch to batch. */
  readonly entries: FaultEntry[] = [];
  private readonly pool: FaultEntry[] = [];
  /** Per entry: its distinct fault, or -1 when an earlier batch already serviced it. */
  readonly entryKey: number[] = [];
  readonly keys = new Map<number, number>();
  unique = 0;
  /** Distinct faults in address order (indices), for servicing block by block. */
  readonly order: Int32Array;
  /** PCIe PRI: the batch's page requests stay outstanding until its response. */
  pri = false;
  /** When the batch's service started (after the interrupt), for the service-time metric. */
  startedAt = 0;
  /** Orders distinct faults by device page (ties by arrival: deterministic). */
  readonly byAddress = (a: number, b: number): number => this.devicePage[a] - this.devicePage[b] || a - b;
  readonly devicePage: number[] = [];
  readonly region: number[] = [];
  readonly write: boolean[] = [];
  readonly accessedPage: number[] = [];
  readonly error: number[] = [];
  readonly seq: number[] = [];
  /** Per unique fault, the PTE bits of each 4 KiB page under its device page. */
  readonly bits: Uint8Array;
  /** The record a strategy fills for one fault. */
  readonly fault: DeviceFault;

  constructor(
    readonly device: Device,
    batchSize: number,
  ) {
    const size = faultUnitPages(device);
    this.bits = new Uint8Array(batchSize * size);
    this.order = new Int32Array(batchSize);
    this.fault = {
      device: device.index,
      batch: 0,
      region: null as unknown as Region,
      devicePage: 0,
      firstPage: 0,
      pages: 0,
      accessedPage: 0,
      write: false,
      bits: new Uint8Array(size),
      error: 0,
      costPs: 0,
    };
  }

  take(): FaultEntry {
    const i = this.entries.length;
    if (i === this.pool.length) this.pool.push({ context: 0, page: 0, write: false, time: 0 });
    return this.pool[i];
  }

  clear(): void {
    this.entries.length = 0;
    this.entryKey.length = 0;
    this.keys.clear();
    this.unique = 0;
  }
}

/**
 * 4 KiB pages of the unit a fault resolves: the device page, or the 2 MiB VA block when the
 * device page is larger (a batch's faults in distinct blocks of one 1 GiB page are then
 * each serviced, not coalesced into one).
 */
function faultUnitPages(dev: Device): number {
  return Math.min(1 << dev.pageShift, VA_BLOCK_PAGES);
}

/** Registers the batch handlers of every device on the machine's event table. */
export function installFaultService(d: Driver, strategy: Strategy): void {
  const m = d.m;
  // Under shared virtual addressing the CPU page table is the mapping: the page response
  // (the replay) is all a resolved fault needs.
  const installs = strategy.translation === 'device-page-table';
  const batches = m.devices.map((dev) => new Batch(dev, dev.faults.batchSize));
  // PRI page requests count against the device's allocation until their response.
  if (!installs) {
    for (const b of batches) {
      b.pri = true;
      b.device.faults.outstandingLimit = Math.min(b.device.faults.capacity, m.iommu.priQueueDepth);
    }
  }
  m.handlers[EV_BATCH_START] = (device, _arg, t) => startBatch(d, strategy, batches[device], t);
  m.handlers[EV_BATCH_END] = (device, _arg, t) => endBatch(d, batches[device], installs, t);
}

function startBatch(d: Driver, strategy: Strategy, batch: Batch, t: Ps): void {
  const m = d.m;
  const dev = batch.device;
  const fb = dev.faults;
  const size = faultUnitPages(dev);
  // The driver fetches only faults already filed: a context files its fault after its
  // translation latency, which can end after this batch starts; such an entry waits for
  // a later batch (its fault would otherwise be serviced before it happened).
  if (fb.headTime() > t) {
    m.queue.push(fb.headTime(), EV_BATCH_START, dev.index);
    return;
  }
  batch.clear();
  batch.startedAt = t;
  while (batch.entries.length < fb.batchSize && fb.headTime() <= t) {
    const e = batch.take();
    if (!fb.shift(e)) break;
    if (d.devicePte(dev.index, e.page) & (e.write ? DEV_WRITE : DEV_READ)) {
      // Mapped by a batch that ended after this fault was filed: only the replay is due.
      dev.counters.faultsAlreadyServiced++;
      batch.entries.push(e);
      batch.entryKey.push(-1);
      continue;
    }
    const dvpn = Math.floor(e.page / size);
    const key = dvpn * 2 + (e.write ? 1 : 0);
    let u = batch.keys.get(key);
    if (u === undefined) {
      u = batch.unique++;
      batch.keys.set(key, u);
      batch.devicePage[u] = dvpn;
      batch.region[u] = m.contexts.runs[e.context].region;
      batch.write[u] = e.write;
      batch.accessedPage[u] = e.page;
    } else {
      dev.counters.faultsCoalesced++;
    }
    batch.entries.push(e);
    batch.entryKey.push(u);
  }
  dev.counters.faultBatches++;
  if (batch.pri) fb.inFlight += batch.entries.length;
  let now = t + fb.batchFetchPs;
  const f = batch.fault;
  f.batch = dev.counters.faultBatches;
  const order = batch.order;
  for (let u = 0; u < batch.unique; u++) order[u] = u;
  order.subarray(0, batch.unique).sort(batch.byAddress);
  let block = -1;
  for (let k = 0; k < batch.unique; k++) {
    const u = order[k];
    const blockOf = Math.floor((batch.devicePage[u] * size) / VA_BLOCK_PAGES);
    if (blockOf !== block) {
      block = blockOf;
      dev.counters.vaBlocksServiced++;
      now += d.timing.perVaBlock;
    }
    const region = m.space.regions[batch.region[u]];
    const dv = batch.devicePage[u];
    f.region = region;
    f.devicePage = dv;
    f.firstPage = Math.max(dv * size, region.basePage);
    f.pages = Math.min((dv + 1) * size, region.basePage + region.pages) - f.firstPage;
    f.accessedPage = batch.accessedPage[u];
    f.write = batch.write[u];
    f.error = 0;
    f.costPs = 0;
    f.bits.fill(0);
    if (f.write && m.space.forked) now = breakCowForDeviceWrite(d, region, f.firstPage, f.pages, now);
    strategy.resolveDeviceFault(d, f, now);
    now += f.costPs;
    batch.error[u] = f.error;
    batch.bits.set(f.bits, u * size);
  }
  // Sequence numbers are read after the whole batch is resolved: invalidations the batch
  // itself caused (copy-on-write inside hmm_range_fault) were retried inside each
  // resolution, as the driver's loop does; only invalidations by others from here to the
  // end of the batch make its faults retry.
  for (let u = 0; u < batch.unique; u++) batch.seq[u] = m.space.regions[batch.region[u]].seq;
  m.queue.push(now, EV_BATCH_END, dev.index);
}

function endBatch(d: Driver, batch: Batch, installs: boolean, t: Ps): void {
  const m = d.m;
  const dev = batch.device;
  const fb = dev.faults;
  const size = faultUnitPages(dev);
  let entries = 0;
  let blocks = 0;
  let lastBlock = -1;
  for (let k = 0; k < batch.unique; k++) {
    const u = batch.order[k];
    if (batch.error[u] !== 0 || !installs) continue;
    const region = m.space.regions[batch.region[u]];
    if (region.seq !== batch.seq[u] || !region.mapped) {
      dev.counters.batchRetries++;
      continue;
    }
    const dv = batch.devicePage[u];
    const first = Math.max(dv * size, region.basePage);
    const count = Math.min((dv + 1) * size, region.basePage + region.pages) - first;
    const offset = u * size + (first - dv * size);
    if (!framesStillThere(d, dev.index, batch.bits, offset, first, count)) {
      // A later fault of this batch moved a page this one was resolved to: retry it.
      dev.counters.batchRetries++;
      continue;
    }
    const changed = d.setDevicePtes(dev.index, first, batch.bits, count, offset);
    const blockOf = Math.floor(first / VA_BLOCK_PAGES);
    if (changed > 0 && blockOf !== lastBlock) {
      blocks++;
      lastBlock = blockOf;
    }
    entries += changed;
  }
  // The driver writes the batch's device PTEs in one push over the link, then replays.
  const written = d.pushPteUpdates(dev.index, blocks, entries, t);
  const replay = written + fb.replayPs;
  dev.counters.batchServicePs += replay - batch.startedAt;
  m.hooks.faultBatch?.(dev.index, batch.startedAt, written, batch.entries.length);
  const ctxs = m.contexts;
  for (let i = 0; i < batch.entries.length; i++) {
    const e = batch.entries[i];
    const key = batch.entryKey[i];
    const err = key < 0 ? 0 : batch.error[key];
    if (err !== 0) {
      ctxs.errors[e.context] = new OpError(
        errnoOf(err),
        `device ${e.write ? 'write to' : 'read of'} ${m.space.describePage(e.page)} (${dev.name})`,
      );
    }
    m.hooks.faultServiced?.(replay, replay - e.time);
    ctxs.charge(e.context, FAULT_SERVICE, replay);
    m.queue.push(replay, EV_RUN, e.context);
  }
  // Contexts whose fault the full buffer dropped retry at the replay (and fault again).
  for (let i = 0; i < fb.dropped; i++) {
    const c = fb.droppedContext(i);
    ctxs.charge(c, FAULT_SERVICE, replay);
    m.queue.push(replay, EV_RUN, c);
  }
  fb.dropped = 0;
  if (batch.pri) fb.inFlight -= batch.entries.length;
  if (fb.length > 0) m.queue.push(written, EV_BATCH_START, dev.index);
  else fb.driverBusy = false;
}

/**
 * Whether every page a resolution maps is still where it was resolved to: a page mapped
 * locally still has its frame on the device, a page mapped peer to peer still has its frame
 * on the other device, a page mapped over the link still has a CPU
 * entry the link can reach. A later fault of the same batch may have moved it: a strategy
 * that evicts while it services a batch (gmem under oversubscription) may take the memory
 * of a fault resolved earlier, and a migration for one device page may take a page an
 * earlier fault mapped over the link (two devices sharing a block). Those notifier
 * invalidations are the batch's own, so the sequence check does not catch them.
 */
function framesStillThere(
  d: Driver,
  device: number,
  bits: Uint8Array,
  offset: number,
  first: number,
  count: number,
): boolean {
  const pte = d.m.space.cpuPte;
  for (let i = 0; i < count; i++) {
    const b = bits[offset + i];
    if ((b & DEV_LOCAL) !== 0) {
      if (d.m.residency.frame(device, first + i) < 0) return false;
    } else if ((b & DEV_PEER) !== 0) {
      const owner = d.m.residency.holderOtherThan(first + i, device);
      if (owner < 0 || d.m.residency.frame(owner, first + i) < 0) return false;
    } else if (b !== 0) {
      const entry = pte.get(first + i);
      if (entry === CpuPte.DevicePrivate || entry === CpuPte.Migration) return false;
    }
  }
  return true;
}
