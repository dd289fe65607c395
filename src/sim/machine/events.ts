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
/** A DRAM bank's controller picks its next request (target: the device, arg: the bank). */
export const EV_DRAM_BANK = 3;
/**
 * A context's device-memory access will be done at the given time, or a trace front end's
 * request admitted (target: the context). Called by the controller when it serves the
 * request, not queued: the handler books the context's next step.
 */
export const EV_DRAM_DONE = 4;
/** An access counter's notification reaches the driver (target: the agent, a device or the CPU after them; arg: the chunk). */
export const EV_ACCESS_COUNTER = 5;
/** A host operation runs while a phase's accesses are under way (a scripted op with withPrevious). */
export const EV_HOST_OP = 6;
export const EV_KINDS = 7;

export type EventHandler = (target: number, arg: number, t: Ps) => void;
