import { useState } from 'react';
import { VIEWS, type ViewId } from './views.js';
import { RunsView } from './views/RunsView.js';
import { PlannedView } from './views/PlannedView.js';

export function App() {
  const [current, setCurrent] = useState<ViewId>('runs');
  const view = VIEWS.find((v) => v.id === current) ?? VIEWS[1];

  return (
    <div className="shell">
      <nav className="nav" aria-label="Views">
        <div className="brand">Hetmem Workbench</div>
        <ul>
          {VIEWS.map((v) => (
            <li key={v.id}>
              <button
                type="button"
                className={v.id === current ? 'nav-item active' : 'nav-item'}
                aria-current={v.id === current ? 'page' : undefined}
                onClick={() => setCurrent(v.id)}
              >
                {v.label}
                {v.planned !== null && <span className="soon">not built yet</span>}
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <main className="content">
        {view.id === 'runs' ? <RunsView /> : <PlannedView label={view.label} planned={view.planned ?? ''} />}
      </main>
    </div>
  );
}
