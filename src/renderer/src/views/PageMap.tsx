/** A snapshot of a range's pages as a strip of cells coloured by state, with a legend. */
import type { Snapshot } from '../../../shared/api.js';

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
          <span key={i} className={`page page-${p}`} title={`page ${i}: ${p}`} />
        ))}
      </div>
      <div className="legend">
        {states.map((s) => (
          <span key={s}>
            <span className={`page page-${s}`} /> {s}
          </span>
        ))}
      </div>
    </figure>
  );
}
