/**
 * The one-line answer to "where did the time go?", from a run's time attribution. Pure,
 * tested under Node (test/renderer-verdict.test.ts). Categories are whatever the model
 * reports, so new ones need no change here.
 */
import type { Attribution } from '../../shared/api.js';

export function categoryLabel(category: string): string {
  const known: Record<string, string> = {
    tlb_miss: 'TLB misses',
    fault_service: 'fault service',
    link_wait: 'waiting on the link',
    dram_wait: 'waiting on DRAM',
  };
  return known[category] ?? category.replaceAll('_', ' ');
}

/** A share in percent: one decimal, or two significant digits below 1 % (so 0.012 % is not "0 %"). */
const percent = (part: number, whole: number) => {
  const p = whole > 0 ? (part / whole) * 100 : 0;
  return p === 0 || p >= 1 ? Math.round(p * 10) / 10 : Number(p.toPrecision(2));
};

/**
 * For the agent that spent the most time on anything but computing and idling: its two
 * largest such categories, with their shares of its time, and its compute share.
 */
export function timeVerdict(attribution: readonly Attribution[]): string {
  let best: { agent: Attribution; stalled: [string, number][]; total: number } | null = null;
  for (const a of attribution) {
    const stalled = Object.entries(a.ns)
      .filter(([c, ns]) => c !== 'idle' && c !== 'compute' && ns > 0)
      .sort((x, y) => y[1] - x[1]);
    const total = stalled.reduce((s, [, ns]) => s + ns, 0);
    if (!best || total > best.total) best = { agent: a, stalled, total };
  }
  if (!best) return 'No time attribution was recorded for this run.';
  const { agent, stalled } = best;
  const compute = percent(agent.ns['compute'] ?? 0, agent.totalNs);
  if (stalled.length === 0) {
    return `${agent.agent} spent ${compute}% of the run computing and was never held up by memory.`;
  }
  const parts = stalled.slice(0, 2).map(([c, ns]) => `${categoryLabel(c)} (${percent(ns, agent.totalNs)}%)`);
  return `Most time went to ${parts.join(', then ')} on ${agent.agent}; it computed ${compute}% of the run.`;
}
