/**
 * The renderer's one way to the services: the Api contract, over whichever transport is
 * present: the Electron preload's `window.hetmem`, or the web client of `npm run serve`
 * when the page was opened with its token.
 */
import type { HetmemApi, RunEventSource } from '../../shared/api.js';
import { takeToken, webClient } from './web-client.js';

export type Services = HetmemApi & RunEventSource;

let cached: Services | null | undefined;

export function getApi(): Services | null {
  if (cached !== undefined) return cached;
  if (window.hetmem) return (cached = window.hetmem);
  const token = takeToken();
  return (cached = token ? webClient(token) : null);
}
