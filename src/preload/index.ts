/**
 * The Electron transport, renderer side. Exposes `window.hetmem`: exactly one function
 * per Api channel and `onRunEvent`, never ipcRenderer itself, so the page can ask for
 * nothing but the requests of the contract.
 *
 * This script runs sandboxed: it is bundled into one CommonJS file that requires nothing
 * but 'electron'. So it imports the channel names (a module with no imports) and the
 * contract's types, never zod or anything from node_modules.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { CHANNELS, RUN_EVENT_CHANNEL } from '../shared/channels.js';
import type { ApiResult, HetmemApi, RunEvent, RunEventSource } from '../shared/api.js';

async function call<T>(channel: string, ...args: unknown[]): Promise<T> {
  const result = (await ipcRenderer.invoke(channel, ...args)) as ApiResult<T>;
  if (result.ok) return result.value;
  // Only the message survives the context bridge; it is written for the user.
  throw new Error(result.error.message);
}

const api: HetmemApi & RunEventSource = {
  getInfo: () => call(CHANNELS.getInfo),
  listRuns: (filter) => call(CHANNELS.listRuns, filter),
  getRun: (id) => call(CHANNELS.getRun, id),
  getTimeline: (id) => call(CHANNELS.getTimeline, id),
  compareRuns: (ids) => call(CHANNELS.compareRuns, ids),
  listPresets: () => call(CHANNELS.listPresets),
  validateExperiment: (text) => call(CHANNELS.validateExperiment, text),
  startRun: (text) => call(CHANNELS.startRun, text),
  cancelRun: (id) => call(CHANNELS.cancelRun, id),
  dequeueRun: (queueId) => call(CHANNELS.dequeueRun, queueId),
  activeRuns: () => call(CHANNELS.activeRuns),
  tagRun: (id, change) => call(CHANNELS.tagRun, id, change),
  deleteRuns: (ids) => call(CHANNELS.deleteRuns, ids),
  exportRuns: (ids, format) => call(CHANNELS.exportRuns, ids, format),
  importDatabase: (file) => call(CHANNELS.importDatabase, file),
  listSweeps: () => call(CHANNELS.listSweeps),
  getSweep: (id, metric) => call(CHANNELS.getSweep, id, metric),
  startSweep: (text) => call(CHANNELS.startSweep, text),
  onRunEvent: (listener) => {
    // The page gets the event's data only, never the IpcRendererEvent (it holds the sender).
    const handler = (_event: IpcRendererEvent, runEvent: RunEvent) => listener(runEvent);
    ipcRenderer.on(RUN_EVENT_CHANNEL, handler);
    return () => ipcRenderer.removeListener(RUN_EVENT_CHANNEL, handler);
  },
};

contextBridge.exposeInMainWorld('hetmem', api);
