/**
 * The memory controller in front of a device's DRAM, after DRAMSim3's (controller.cc,
 * command_queue.cc): per channel a read queue and a write buffer, per bank a short queue
 * the scheduler chooses from.
 *
 * - A request (the part of an access inside one channel chunk and one row, Dram.decode)
 *   enters its channel's read queue or write buffer; when that is full its requester waits,
 *   in arrival order, for an entry to free.
 * - The queues feed the bank queues in order, skipping a request whose bank queue is full.
 *   Reads flow unless the write buffer is draining: it drains whole when it is full, when it
 *   holds more than `writeDrainLowWatermark` writes and no bank has work, or when no bank
 *   has work and no read waits (an idle controller writes its buffer back).
 * - When a bank can take a command it picks, FR-FCFS, the oldest request to its open row
 *   (at most `rowHitCap` in a row), else the oldest; Dram.commit then does the activate,
 *   precharge, turnaround and refresh timing.
 * - A write is done for its requester once in the write buffer (DRAMSim3 calls back one
 *   cycle after it is added); a read when its data is out.
 *
 * A read that finds its bank ready with nothing queued for it (a write: its whole channel
 * idle) is served at once, with no event, as the scheduler would serve it: light traffic
 * costs what the FCFS model cost.
 *
 * The controller schedules its own events through `DramEvents`: a bank's next decision,
 * and a requester's completion when it did not complete at once.
 */
import type { Ps } from '../engine/time.js';
import { DramPieces, type Dram } from './dram.js';

/** Returned by submit when the requester must wait for `DramEvents.done`. */
export const DRAM_WAITING = -2;

export interface DramEvents {
  /** Call `decide(bank, t)` at `t`. */
  bank(t: Ps, bank: number): void;
  /** Requester `owner`'s access is done (or admitted) at `t`. */
  done(t: Ps, owner: number): void;
}

export interface DramControllerConfig {
  scheduler: 'fr-fcfs' | 'fcfs';
  transactionQueueEntries: number;
  bankQueueEntries: number;
  rowHitCap: number;
  writeDrainLowWatermark: number;
}

/** A FIFO of request ids that grows; its capacity is a power of two, so positions wrap with a mask. */
class Fifo {
  private items = new Int32Array(16);
  private mask = 15;
  private head = 0;
  length = 0;

  push(id: number): void {
    if (this.length === this.items.length) {
      const bigger = new Int32Array(this.items.length * 2);
      for (let i = 0; i < this.length; i++) bigger[i] = this.items[(this.head + i) & this.mask];
      this.items = bigger;
      this.mask = bigger.length - 1;
      this.head = 0;
    }
    this.items[(this.head + this.length++) & this.mask] = id;
  }

  at(i: number): number {
    return this.items[(this.head + i) & this.mask];
  }

  /** Removes the i-th entry, keeping the order of the rest. */
  removeAt(i: number): number {
    const items = this.items;
    const mask = this.mask;
    const id = items[(this.head + i) & mask];
    if (i === 0) {
      this.head = (this.head + 1) & mask;
    } else {
      for (let k = i; k < this.length - 1; k++) items[(this.head + k) & mask] = items[(this.head + k + 1) & mask];
    }
    this.length--;
    return id;
  }
}

export class DramController {
  /** Requests that waited for a full read queue or write buffer, and their total wait. */
  queueFullWaits = 0;
  queueFullWaitPs: Ps = 0;
  /** Requests the scheduler took out of order (a row hit ahead of an older request). */
  reordered = 0;

  private cap: number;
  private readonly bankCap: number;
  private readonly hitCap: number;
  private readonly lowMark: number;
  private readonly frFcfs: boolean;
  private readonly tCKPs: Ps;

  // Per channel: requests in the read queue and write buffer (held per bank, below, so
  // that a bank with room takes its oldest without a scan), requesters waiting for room,
  // writes left to drain, and requests in the channel's bank queues.
  private readonly queuedReads: Int32Array;
  private readonly queuedWrites: Int32Array;
  private readonly waitingReads: Fifo[];
  private readonly waitingWrites: Fifo[];
  private readonly drainLeft: Int32Array;
  private readonly bankQueued: Int32Array;
  /** 1 when a drain ended and the channel's banks should take reads again. */
  private readonly drainEnded: Uint8Array;

  // Per bank (global index): its part of the read queue and write buffer, its queue, its
  // pending decision and the column commands (bursts) to its open row since it opened.
  private readonly reads: Fifo[];
  private readonly writes: Fifo[];
  private readonly bankQueues: Fifo[];
  private readonly decisionAt: Float64Array;
  private readonly hitRun: Int32Array;
  private readonly banksPerChannel: number;

  // Per request, pooled.
  private owner = new Int32Array(64);
  private channel = new Int32Array(64);
  private bank = new Int32Array(64);
  private row = new Float64Array(64);
  private bursts = new Int32Array(64);
  private write = new Uint8Array(64);
  private arrival = new Float64Array(64);
  private free: number[] = [];
  private nextId = 0;

  // Per requester.
  private pending = new Int32Array(16);
  private doneAt = new Float64Array(16);
  /** 1 when the requester goes on once its requests are admitted (an open-loop trace), not done. */
  private admitOnly = new Uint8Array(16);
  /** 1 while submit is still running for the requester (completion is then returned, not an event). */
  private inSubmit = new Uint8Array(16);

  private readonly pieces = new DramPieces();

  constructor(
    private readonly dram: Dram,
    config: DramControllerConfig,
    private readonly events: DramEvents,
  ) {
    this.cap = config.transactionQueueEntries;
    this.bankCap = config.bankQueueEntries;
    this.hitCap = config.rowHitCap;
    this.lowMark = config.writeDrainLowWatermark;
    this.frFcfs = config.scheduler === 'fr-fcfs';
    this.tCKPs = Math.round(dram.spec.tCKNs * 1000);
    const channels = dram.channels;
    const banks = channels * dram.banks;
    this.banksPerChannel = dram.banks;
    const fifos = (n: number) => Array.from({ length: n }, () => new Fifo());
    this.queuedReads = new Int32Array(channels);
    this.queuedWrites = new Int32Array(channels);
    this.waitingReads = fifos(channels);
    this.waitingWrites = fifos(channels);
    this.drainLeft = new Int32Array(channels);
    this.bankQueued = new Int32Array(channels);
    this.drainEnded = new Uint8Array(channels);
    this.reads = fifos(banks);
    this.writes = fifos(banks);
    this.bankQueues = fifos(banks);
    this.decisionAt = new Float64Array(banks).fill(-1);
    this.hitRun = new Int32Array(banks);
  }

  /** Sets the depth of every read queue and write buffer (a trace replay's front end may ask for its own). */
  setTransactionQueueEntries(entries: number): void {
    this.cap = entries;
  }

  /**
   * Requester `owner` accesses `bytes` at device address `addr` at `t`. Returns when it is
   * done (when admitted, with `admitOnly`), or DRAM_WAITING: then `events.done` tells.
   */
  submit(t: Ps, owner: number, addr: number, bytes: number, write: boolean, admitOnly: boolean): Ps {
    const dram = this.dram;
    dram.checkRange(addr, bytes);
    dram.count(bytes, write);
    this.ensureOwner(owner);
    this.pending[owner] = 0;
    this.doneAt[owner] = t;
    this.admitOnly[owner] = admitOnly ? 1 : 0;
    this.inSubmit[owner] = 1;
    const p = this.pieces;
    const n = dram.decode(addr, bytes, p);
    this.pending[owner] = n;
    for (let i = 0; i < n; i++) {
      const ch = p.channel[i];
      const bank = p.bank[i];
      const id = this.newRequest(owner, ch, bank, p.row[i], p.bursts[i], write, t);
      if (write ? this.channelIdle(ch, bank, t) : this.bankIdle(ch, bank, t)) {
        // The scheduler would pick it now: its bank is ready with nothing queued (for a
        // write, the whole channel, else it would wait in the write buffer).
        this.hitRun[bank] = (dram.openRowAt(bank, t) === p.row[i] ? this.hitRun[bank] : 0) + p.bursts[i];
        this.serve(id, t);
        if (write || admitOnly) this.resolve(owner, admitOnly ? t : t + this.tCKPs);
      } else {
        const waiting = write ? this.waitingWrites[ch] : this.waitingReads[ch];
        const queued = write ? this.queuedWrites[ch] : this.queuedReads[ch];
        if (queued < this.cap && waiting.length === 0) this.admit(id, t);
        else {
          this.queueFullWaits++;
          waiting.push(id);
        }
        this.settle(ch, t);
      }
    }
    this.inSubmit[owner] = 0;
    return this.pending[owner] === 0 ? this.doneAt[owner] : DRAM_WAITING;
  }

  /** Bank `bank`'s decision at `t` (scheduled through DramEvents.bank). */
  decide(bank: number, t: Ps): void {
    this.decisionAt[bank] = -1;
    const queue = this.bankQueues[bank];
    if (queue.length === 0) return;
    const ready = this.dram.bankReadyAt(bank);
    if (ready > t) {
      this.schedule(bank, ready);
      return;
    }
    let pick = 0;
    const open = this.dram.openRowAt(bank, t);
    if (this.frFcfs && open >= 0 && this.hitRun[bank] < this.hitCap) {
      for (let i = 0; i < queue.length; i++) {
        if (this.row[queue.at(i)] === open) {
          pick = i;
          break;
        }
      }
      if (pick > 0) this.reordered++;
    }
    const id = queue.removeAt(pick);
    const ch = this.channel[id];
    this.bankQueued[ch]--;
    this.hitRun[bank] = (this.row[id] === open ? this.hitRun[bank] : 0) + this.bursts[id];
    this.serve(id, t);
    this.pull(bank, t);
    this.settle(ch, t);
    if (queue.length > 0) this.schedule(bank, t);
  }

  /** A read to `bank` at `t` would be served at once. */
  private bankIdle(ch: number, bank: number, t: Ps): boolean {
    return (
      this.bankQueues[bank].length === 0 &&
      this.decisionAt[bank] < 0 &&
      this.dram.bankReadyAt(bank) <= t &&
      this.reads[bank].length === 0 &&
      this.drainLeft[ch] === 0 &&
      this.waitingReads[ch].length === 0
    );
  }

  /** Nothing is queued in the channel and `bank` is ready at `t`. */
  private channelIdle(ch: number, bank: number, t: Ps): boolean {
    return (
      this.bankQueued[ch] === 0 &&
      this.decisionAt[bank] < 0 &&
      this.dram.bankReadyAt(bank) <= t &&
      this.queuedReads[ch] === 0 &&
      this.queuedWrites[ch] === 0 &&
      this.waitingReads[ch].length === 0 &&
      this.waitingWrites[ch].length === 0
    );
  }

  /**
   * The request's commands, from `t`. A read's data resolves its requester's piece (a
   * write's piece, and any piece of an admit-only requester, resolved when admitted).
   */
  private serve(id: number, t: Ps): void {
    const write = this.write[id] === 1;
    const dram = this.dram;
    const finished = dram.commit(t, this.channel[id], this.bank[id], this.row[id], this.bursts[id], write);
    const issued = this.arrival[id];
    dram.noteSpan(issued, finished);
    if (!write) {
      dram.countRead(issued, finished);
      if (this.admitOnly[this.owner[id]] === 0) this.resolve(this.owner[id], finished);
    }
    this.free.push(id);
  }

  /** The request enters its channel's read queue or write buffer at `t`, and its bank's queue if that has room. */
  private admit(id: number, t: Ps): void {
    if (t > this.arrival[id]) this.queueFullWaitPs += t - this.arrival[id];
    const bank = this.bank[id];
    const ch = this.channel[id];
    const owner = this.owner[id];
    if (this.write[id] === 1) {
      this.writes[bank].push(id);
      this.queuedWrites[ch]++;
      if (this.admitOnly[owner] === 0) this.resolve(owner, t + this.tCKPs);
    } else {
      this.reads[bank].push(id);
      this.queuedReads[ch]++;
    }
    if (this.admitOnly[owner] === 1) this.resolve(owner, t);
    this.pull(bank, t);
  }

  /**
   * Bank `bank` takes the oldest requests of its part of the read queue (of the write
   * buffer while it drains) while its queue has room.
   */
  private pull(bank: number, t: Ps): void {
    const queue = this.bankQueues[bank];
    const ch = Math.floor(bank / this.banksPerChannel);
    let moved = false;
    while (queue.length < this.bankCap) {
      const draining = this.drainLeft[ch] > 0;
      const source = draining ? this.writes[bank] : this.reads[bank];
      if (source.length === 0) break;
      queue.push(source.removeAt(0));
      this.bankQueued[ch]++;
      moved = true;
      if (!draining) this.queuedReads[ch]--;
      else {
        this.queuedWrites[ch]--;
        if (--this.drainLeft[ch] === 0) this.drainEnded[ch] = 1;
      }
    }
    if (moved) this.schedule(bank, t);
  }

  /** Admits waiting requesters while there is room, and starts or ends a drain of the write buffer. */
  private settle(ch: number, t: Ps): void {
    const first = ch * this.banksPerChannel;
    for (;;) {
      const waitingReads = this.waitingReads[ch];
      while (waitingReads.length > 0 && this.queuedReads[ch] < this.cap) this.admit(waitingReads.removeAt(0), t);
      const waitingWrites = this.waitingWrites[ch];
      while (waitingWrites.length > 0 && this.queuedWrites[ch] < this.cap) this.admit(waitingWrites.removeAt(0), t);
      const w = this.queuedWrites[ch];
      const idle = this.bankQueued[ch] === 0;
      let rescan = false;
      if (
        this.drainLeft[ch] === 0 &&
        w > 0 &&
        (w >= this.cap || (idle && (w > this.lowMark || this.queuedReads[ch] === 0)))
      ) {
        this.drainLeft[ch] = w;
        rescan = true;
      }
      if (this.drainEnded[ch] === 1) {
        this.drainEnded[ch] = 0;
        rescan = true;
      }
      if (!rescan) return;
      for (let b = first; b < first + this.banksPerChannel; b++) this.pull(b, t);
    }
  }

  /** A decision for `bank` no earlier than `t` and its next ready time, unless one is pending. */
  private schedule(bank: number, t: Ps): void {
    if (this.decisionAt[bank] >= 0) return;
    const ready = this.dram.bankReadyAt(bank);
    const at = ready > t ? ready : t;
    this.decisionAt[bank] = at;
    this.events.bank(at, bank);
  }

  private resolve(owner: number, at: Ps): void {
    if (at > this.doneAt[owner]) this.doneAt[owner] = at;
    if (--this.pending[owner] === 0 && this.inSubmit[owner] === 0) this.events.done(this.doneAt[owner], owner);
  }

  private newRequest(owner: number, ch: number, bank: number, row: number, bursts: number, write: boolean, t: Ps) {
    let id = this.free.pop();
    if (id === undefined) {
      id = this.nextId++;
      if (id === this.owner.length) this.growRequests();
    }
    this.owner[id] = owner;
    this.channel[id] = ch;
    this.bank[id] = bank;
    this.row[id] = row;
    this.bursts[id] = bursts;
    this.write[id] = write ? 1 : 0;
    this.arrival[id] = t;
    return id;
  }

  private growRequests(): void {
    const n = this.owner.length * 2;
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(a: T, b: T): T => (b.set(a), b);
    this.owner = grow(this.owner, new Int32Array(n));
    this.channel = grow(this.channel, new Int32Array(n));
    this.bank = grow(this.bank, new Int32Array(n));
    this.row = grow(this.row, new Float64Array(n));
    this.bursts = grow(this.bursts, new Int32Array(n));
    this.write = grow(this.write, new Uint8Array(n));
    this.arrival = grow(this.arrival, new Float64Array(n));
  }

  private ensureOwner(owner: number): void {
    if (owner < this.pending.length) return;
    let n = this.pending.length;
    while (n <= owner) n *= 2;
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(a: T, b: T): T => (b.set(a), b);
    this.pending = grow(this.pending, new Int32Array(n));
    this.doneAt = grow(this.doneAt, new Float64Array(n));
    this.admitOnly = grow(this.admitOnly, new Uint8Array(n));
    this.inSubmit = grow(this.inSubmit, new Uint8Array(n));
  }
}
