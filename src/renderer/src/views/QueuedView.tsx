/**
 * A run waiting in the queue (runs start one at a time, or as many as the services'
 * concurrency allows): its place in the queue and a button that takes it out. When it
 * starts, the view turns into its run view.
 */
import { useEffect, useState } from 'react';
import type { ActiveRun } from '../../../shared/api.js';
import type { Services } from '../api.js';
import { messageOf } from '../load.js';
import { navigate } from '../router.js';

type State =
  { state: 'loading' } | { state: 'queued'; run: ActiveRun; running: ActiveRun[] } | { state: 'gone'; why: string };

export function QueuedView({ api, queueId }: { api: Services; queueId: number }) {
  const [view, setView] = useState<State>({ state: 'loading' });
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    const refresh = () =>
      void api.activeRuns().then((runs) => {
        if (!current) return;
        const mine = runs.find((r) => r.queueId === queueId);
        if (mine?.runId != null) navigate({ view: 'run', id: mine.runId }, true);
        else if (mine) setView({ state: 'queued', run: mine, running: runs.filter((r) => r.state === 'running') });
        else setView((v) => (v.state === 'gone' ? v : { state: 'gone', why: 'It is no longer in the queue.' }));
      });
    const off = api.onRunEvent((event) => {
      if (event.type === 'progress' || event.type === 'series') return;
      if (event.type === 'started' && event.queueId === queueId) navigate({ view: 'run', id: event.runId }, true);
      else if (event.type === 'dequeued' && event.queueId === queueId) {
        setView({
          state: 'gone',
          why: event.error ?? 'It was taken out of the queue before it started; nothing was recorded.',
        });
      } else refresh();
    });
    refresh();
    return () => {
      current = false;
      off();
    };
  }, [api, queueId]);

  if (view.state === 'loading') return <section className="view muted">Loading queued run {queueId}…</section>;
  if (view.state === 'gone') {
    return (
      <section className="view">
        <h1>Queued run</h1>
        <p className="notice" role="alert">
          {view.why} The <a href="#/runs">Runs</a> list has every run that started.
        </p>
      </section>
    );
  }
  const { run, running } = view;
  return (
    <section className="view run-queued">
      <header className="view-header">
        <h1>Queued: {run.name}</h1>
        <span className="status status-queued">queued</span>
        <span className="spacer" />
        <button
          type="button"
          onClick={async () => {
            setError(null);
            try {
              await api.dequeueRun(queueId);
            } catch (e) {
              setError(messageOf(e));
            }
          }}
        >
          Remove from queue
        </button>
      </header>
      {error && <p className="notice error">{error}</p>}
      <p>
        {run.position === 1 ? 'Next to start' : `Number ${run.position} in the queue`}: it starts when{' '}
        {running.length === 1 ? 'the run in progress ends' : 'one of the runs in progress ends'}. Nothing is recorded
        until it starts.
      </p>
      {running.length > 0 && (
        <ul>
          {running.map((r) => (
            <li key={r.queueId}>
              Running: <a href={`#/run/${r.runId}`}>run {r.runId}</a> {r.name}
              {r.progress ? ` (${Math.round(r.progress.fraction * 100)} %)` : ''}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
