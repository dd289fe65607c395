/** A snapshot of a range's pages as a strip of cells coloured by state, with a legend; 2 MiB and 1 GiB mappings are outlined. */
import type { Snapshot } from '../../../shared/api.js';

/** The cell classes of a page view: its state's colour, and an outline for a '-pmd' (2 MiB) or '-pud' (1 GiB) mapping. */
export function pageClass(view: string): string {
  return view.endsWith('-pmd') || view.endsWith('-pud')
    ? `page page-${view.slice(0, -4)} page-huge`
    : `page page-${view}`;
}

export function PageMap({ snapshot, op }: { snapshot: Snapshot; op: string | undefined }) {
  const states = [...new Set(snapshot.pages)];
  return (
    <figure className="page-map">
      <figcaption>
        <code>{snapshot.region}</code> after operation {snapshot.opIndex}
        {op ? ` (${op})` : ''}: {snapshot.pages.length} pages
      </figcaption>
      <div className="page-cells" role="img" aria-label={`Page states of ${snapshot.region}`}>
        {snapshot.pages.map((p, i) => (
          <span key={i} className={pageClass(p)} title={`page ${i}: ${p}`} />
        ))}
      </div>
      <div className="legend">
        {states.map((s) => (
          <span key={s}>
            <span className={pageClass(s)} /> {s}
          </span>
        ))}
      </div>
    </figure>
  );
}
