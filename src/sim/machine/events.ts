/**
 * Event kinds of the engine's queue, and the table the run loop dispatches them through.
 * Only misses, faults and transfers become events. Each kind's handler is registered once
 * by whoever owns it (the machine for context steps, the memory manager for fault
 * batches); the loop knows none of them.
 */
import type { Ps } from '../engine/time.js';

/** A context takes its next step (target: the context). */
export const EV_RUN = 0;
/** A device's driver starts servicing a fault batch (target: the device). */
export const EV_BATCH_START = 1;
/** A fault batch's service ends: install mappings, replay (target: the device). */
export const EV_BATCH_END = 2;
export const EV_KINDS = 3;

export type EventHandler = (target: number, arg: number, t: Ps) => void;
