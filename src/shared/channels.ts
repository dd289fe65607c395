/**
 * One IPC channel per Api request. This file imports nothing, on purpose: the sandboxed
 * preload bundles it, and a sandboxed preload may require nothing but 'electron'.
 * `api.ts` checks that the keys here are exactly the requests of the contract.
 */
export const CHANNELS = {
  getInfo: 'hetmem:getInfo',
  listRuns: 'hetmem:listRuns',
  getRun: 'hetmem:getRun',
} as const;

export type RequestName = keyof typeof CHANNELS;
