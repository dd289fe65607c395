/** How the compare view names a run: "#12 hmm-mirror". */
export const runLabel = (r: { id: number; strategy: string }) => `#${r.id} ${r.strategy}`;
