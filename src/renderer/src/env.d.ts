import type { HetmemApi, RunEventSource } from '../../shared/api.js';

declare global {
  interface Window {
    /** Set by the Electron preload; absent when the page is opened any other way. */
    hetmem?: HetmemApi & RunEventSource;
  }
}

export {};
