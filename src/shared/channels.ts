/**
 * One IPC channel per Api request, plus the one channel main pushes run events on. This
 * file imports nothing, on purpose: the sandboxed preload bundles it, and a sandboxed
 * preload may require nothing but 'electron'. `api.ts` checks that the keys here are
 * exactly the requests of the contract.
 */
export const CHANNELS = {
  getInfo: 'hetmem:getInfo',
  listRuns: 'hetmem:listRuns',
  getRun: 'hetmem:getRun',
  getTimeline: 'hetmem:getTimeline',
  compareRuns: 'hetmem:compareRuns',
  listPresets: 'hetmem:listPresets',
  validateExperiment: 'hetmem:validateExperiment',
  startRun: 'hetmem:startRun',
  cancelRun: 'hetmem:cancelRun',
  dequeueRun: 'hetmem:dequeueRun',
  activeRuns: 'hetmem:activeRuns',
  tagRun: 'hetmem:tagRun',
  deleteRuns: 'hetmem:deleteRuns',
  exportRuns: 'hetmem:exportRuns',
  importDatabase: 'hetmem:importDatabase',
  listSweeps: 'hetmem:listSweeps',
  getSweep: 'hetmem:getSweep',
  startSweep: 'hetmem:startSweep',
} as const;

export type RequestName = keyof typeof CHANNELS;

/** Main to renderer: progress and ends of runs (a RunEvent each). */
export const RUN_EVENT_CHANNEL = 'hetmem:runEvent';
