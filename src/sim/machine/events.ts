/** Event kinds of the engine's queue. Only misses, faults and transfers become events. */
export const EV_RUN = 0;
export const EV_BATCH_START = 1;
export const EV_BATCH_END = 2;
