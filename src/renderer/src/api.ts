/**
 * The renderer's one way to the services: the Api contract, over whichever transport is
 * present. Today that is the Electron preload's `window.hetmem`; the web transport of
 * `npm run serve` will be the other implementation of the same interface.
 */
import type { HetmemApi } from '../../shared/api.js';

export function getApi(): HetmemApi | null {
  return window.hetmem ?? null;
}
