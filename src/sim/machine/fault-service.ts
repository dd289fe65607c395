/**
 * Device fault service: faults are filed into the fault buffer; the driver wakes after an
 * interrupt, fetches a batch, resolves each distinct (device page, access) once through
 * the strategy, installs the mappings at the end of the batch unless a notifier
 * invalidated the range meanwhile (mmu_interval_read_retry), and replays.
 */
import type { Ps } from '../engine/time.js';
import { H2D } from '../hw/link/types.js';
import { FAULT_SERVICE } from './contexts.js';
import { errorName, ERR_EFAULT, ERR_EPERM } from './cpu-mm.js';
import { EV_BATCH_END, EV_BATCH_START, EV_RUN } from './events.js';
import type { FaultEntry } from './fault-buffer.js';
import type { Machine } from './machine.js';

export function fileFault(m: Machine, c: number, page: number, write: boolean, t: Ps): void {
  const fb = m.faults;
  m.counters.devicePageFaults++;
  m.hooks.fault?.(t);
  if (fb.length >= fb.capacity) m.counters.deviceFaultBufferFull++;
  fb.push(c, page, write, t);
  if (!fb.driverBusy) {
    fb.driverBusy = true;
    m.queue.push(t + fb.interruptPs, EV_BATCH_START, 0);
  }
}

/** The batch being serviced: its entries, and one resolution per distinct (device page, write). */
export class Batch {
  /** Entries of this batch: the first `length` of a pool reused from batch to batch. */
  readonly entries: FaultEntry[] = [];
  private readonly pool: FaultEntry[] = [];
  readonly entryKey: number[] = [];
  readonly keys = new Map<number, number>();
  readonly devicePage: number[] = [];
  readonly region: number[] = [];
  readonly write: boolean[] = [];
  readonly accessedPage: number[] = [];
  readonly pte: number[] = [];
  readonly error: number[] = [];
  readonly seq: number[] = [];

  /** A free entry object (batches reuse them, so servicing faults allocates nothing in steady state). */
  take(): FaultEntry {
    const i = this.entries.length;
    if (i === this.pool.length) this.pool.push({ context: 0, page: 0, write: false, time: 0 });
    return this.pool[i];
  }

  clear(): void {
    this.entries.length = 0;
    this.entryKey.length = 0;
    this.keys.clear();
    for (const a of [this.devicePage, this.region, this.write, this.accessedPage, this.pte, this.error, this.seq])
      a.length = 0;
  }
}

export function startBatch(m: Machine, batch: Batch, t: Ps): void {
  const fb = m.faults;
  batch.clear();
  while (batch.entries.length < fb.batchSize) {
    const e = batch.take();
    if (!fb.shift(e)) break;
    const dvpn = e.page >> m.devPageShift;
    const key = dvpn * 2 + (e.write ? 1 : 0);
    let u = batch.keys.get(key);
    if (u === undefined) {
      u = batch.devicePage.length;
      batch.keys.set(key, u);
      batch.devicePage.push(dvpn);
      batch.region.push(m.contexts.runs[e.context].region);
      batch.write.push(e.write);
      batch.accessedPage.push(e.page);
    } else {
      m.counters.deviceFaultsCoalesced++;
    }
    batch.entries.push(e);
    batch.entryKey.push(u);
  }
  m.counters.deviceFaultBatches++;
  let now = t + fb.batchFetchPs;
  let updates = 0;
  for (let u = 0; u < batch.devicePage.length; u++) {
    const region = m.space.regions[batch.region[u]];
    const r = m.strategy.resolveDeviceFault(m, region, batch.devicePage[u], batch.accessedPage[u], batch.write[u], now);
    now += r.costPs;
    batch.pte.push(r.pte);
    batch.error.push(r.error === 'EFAULT' ? ERR_EFAULT : r.error === 'EPERM' ? ERR_EPERM : 0);
    if (r.pte !== 0) updates++;
  }
  // Sequence numbers are read after the whole batch is resolved: invalidations the batch
  // itself caused (copy-on-write inside hmm_range_fault) were retried inside each
  // resolution, as the driver's loop does; only invalidations by others from here to the
  // end of the batch make its faults retry.
  for (let u = 0; u < batch.devicePage.length; u++) batch.seq.push(m.space.regions[batch.region[u]].seq);
  // The driver writes the batch's device PTEs in one push over the link.
  if (updates > 0) now = m.link.write(now, H2D, updates * m.config.hardware.driver.ptUpdateBytes);
  m.queue.push(now, EV_BATCH_END, 0);
}

export function endBatch(m: Machine, batch: Batch, t: Ps): void {
  const fb = m.faults;
  const pte = m.devPte.data;
  for (let u = 0; u < batch.devicePage.length; u++) {
    if (batch.error[u] !== 0) continue;
    const region = m.space.regions[batch.region[u]];
    if (region.seq !== batch.seq[u] || !region.mapped) {
      m.counters.batchRetries++;
      continue;
    }
    pte[batch.devicePage[u]] |= batch.pte[u];
  }
  const replay = t + fb.replayPs;
  const ctxs = m.contexts;
  for (let i = 0; i < batch.entries.length; i++) {
    const e = batch.entries[i];
    const u = batch.entryKey[i];
    const err = batch.error[u];
    if (err !== 0) {
      ctxs.errors[e.context] =
        `${errorName(err)}: device ${e.write ? 'write to' : 'read of'} ${m.space.describePage(e.page)}`;
    }
    m.hooks.faultServiced?.(replay, replay - e.time);
    ctxs.charge(e.context, FAULT_SERVICE, replay);
    m.queue.push(replay, EV_RUN, e.context);
  }
  if (fb.length > 0) m.queue.push(t, EV_BATCH_START, 0);
  else fb.driverBusy = false;
}
