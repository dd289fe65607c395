/**
 * Where the agents' simulated time went: for the whole run, averaged over each agent's
 * contexts, and for one phase, averaged over the contexts that were active in it (so a
 * phase that ran on 4 of 864 device contexts is not reported as 99 % idle).
 */
import { CATEGORIES, IDLE } from '../machine/contexts.js';
import type { Machine } from '../machine/machine.js';
import { ATTRIBUTION_CATEGORIES, type Attribution } from './types.js';

/** The agents: the CPU, then each device, as [name, first context, contexts]. */
function agents(m: Machine): [string, number, number][] {
  return [
    ['cpu', 0, m.contexts.cpuContexts],
    ...m.devices.map((d): [string, number, number] => [d.name, d.firstContext, d.contexts]),
  ];
}

function toAttribution(agent: string, sums: Float64Array, contexts: number): Attribution {
  const ns = {} as Attribution['ns'];
  let total = 0;
  ATTRIBUTION_CATEGORIES.forEach((cat, k) => {
    ns[cat] = contexts > 0 ? sums[k] / contexts / 1000 : 0;
    total += ns[cat];
  });
  return { agent, contexts, totalNs: total, ns };
}

/** The whole run, per agent. */
export function runAttribution(m: Machine): Attribution[] {
  const time = m.contexts.attribution;
  return agents(m).map(([name, first, n]) => {
    const sums = new Float64Array(CATEGORIES);
    for (let c = first; c < first + n; c++) for (let k = 0; k < CATEGORIES; k++) sums[k] += time[c * CATEGORIES + k];
    return toAttribution(name, sums, n);
  });
}

/**
 * One phase, per agent that had an active context in it: the time accounted since
 * `before` (a copy of the contexts' attribution at the phase's start), over the contexts
 * that spent any of it on something other than idling.
 */
export function phaseAttribution(m: Machine, before: Float64Array): Attribution[] {
  const time = m.contexts.attribution;
  const out: Attribution[] = [];
  for (const [name, first, n] of agents(m)) {
    const sums = new Float64Array(CATEGORIES);
    let active = 0;
    for (let c = first; c < first + n; c++) {
      const at = c * CATEGORIES;
      let busy = false;
      for (let k = 0; k < CATEGORIES; k++) if (k !== IDLE && time[at + k] > before[at + k]) busy = true;
      if (!busy) continue;
      active++;
      for (let k = 0; k < CATEGORIES; k++) sums[k] += time[at + k] - before[at + k];
    }
    if (active > 0) out.push(toAttribution(name, sums, active));
  }
  return out;
}
