/**
 * The Electron transport, renderer side. Exposes `window.hetmem`: exactly one function
 * per Api channel, never ipcRenderer itself, so the page can ask for nothing but the
 * requests of the contract.
 *
 * This script runs sandboxed: it is bundled into one CommonJS file that requires nothing
 * but 'electron'. So it imports the channel names (a module with no imports) and the
 * contract's types, never zod or anything from node_modules.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { CHANNELS } from '../shared/channels.js';
import type { ApiResult, HetmemApi } from '../shared/api.js';

async function call<T>(channel: string, ...args: unknown[]): Promise<T> {
  const result = (await ipcRenderer.invoke(channel, ...args)) as ApiResult<T>;
  if (result.ok) return result.value;
  // Only the message survives the context bridge; it is written for the user.
  throw new Error(result.error.message);
}

const api: HetmemApi = {
  getInfo: () => call(CHANNELS.getInfo),
  listRuns: (filter) => call(CHANNELS.listRuns, filter),
  getRun: (id) => call(CHANNELS.getRun, id),
};

contextBridge.exposeInMainWorld('hetmem', api);
