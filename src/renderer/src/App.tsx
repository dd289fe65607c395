import { useEffect } from 'react';
import { getApi, type Services } from './api.js';
import { href, useRoute, type Route } from './router.js';
import { EditorView } from './views/EditorView.js';
import { RunsView } from './views/RunsView.js';
import { RunView } from './views/RunView.js';
import { CompareView } from './views/CompareView.js';
import { ExportView } from './views/ExportView.js';
import { SweepsView, SweepView } from './views/SweepView.js';
import { QueuedView } from './views/QueuedView.js';

const NAV: { view: Route['view']; label: string; route: Route }[] = [
  { view: 'editor', label: 'Experiment editor', route: { view: 'editor' } },
  { view: 'runs', label: 'Runs', route: { view: 'runs' } },
  { view: 'compare', label: 'Compare', route: { view: 'compare', ids: [] } },
  { view: 'sweeps', label: 'Sweeps', route: { view: 'sweeps' } },
  { view: 'export', label: 'Export / import', route: { view: 'export', ids: [] } },
];

export function App() {
  const api = getApi();
  const route = useRoute();
  useEffect(() => {
    document.title = `Hetmem Workbench · ${NAV.find((n) => n.view === route.view)?.label ?? 'Run'}`;
  }, [route.view]);

  return (
    <div className="shell">
      <nav className="nav" aria-label="Views">
        <div className="brand">Hetmem Workbench</div>
        <ul>
          {NAV.map((n) => (
            <li key={n.view}>
              <a
                href={href(n.route)}
                className={
                  n.view === route.view ||
                  (n.view === 'runs' && (route.view === 'run' || route.view === 'queued')) ||
                  (n.view === 'sweeps' && route.view === 'sweep')
                    ? 'nav-item active'
                    : 'nav-item'
                }
                aria-current={n.view === route.view ? 'page' : undefined}
              >
                {n.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main className="content">{api ? <Current api={api} route={route} /> : <NoServices />}</main>
    </div>
  );
}

function Current({ api, route }: { api: Services; route: Route }) {
  switch (route.view) {
    case 'editor':
      return <EditorView api={api} />;
    case 'runs':
      return <RunsView api={api} />;
    case 'run':
      return <RunView key={route.id} api={api} id={route.id} />;
    case 'queued':
      return <QueuedView key={route.queueId} api={api} queueId={route.queueId} />;
    case 'compare':
      return <CompareView api={api} ids={route.ids} />;
    case 'export':
      return <ExportView api={api} ids={route.ids} />;
    case 'sweeps':
      return <SweepsView api={api} />;
    case 'sweep':
      return <SweepView key={route.id} api={api} id={route.id} />;
  }
}

function NoServices() {
  return (
    <section className="view">
      <h1>Not connected</h1>
      <p className="notice error">
        This page has no connection to the workbench services. Open it in the Hetmem Workbench desktop app, or open the
        URL with its <code>?token=…</code> that <code>npm run serve</code> printed.
      </p>
    </section>
  );
}
